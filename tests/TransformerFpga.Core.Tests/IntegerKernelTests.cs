using TransformerFpga.Integer;
using TransformerFpga.Layers;
using TransformerFpga.Layers.Attention;
using TransformerFpga.Layers.Linear;
using TransformerFpga.Model;
using TransformerFpga.Quantization;

namespace TransformerFpga.Tests;

[TestClass]
public sealed class IntegerKernelTests
{
    [TestMethod]
    [DataRow(5L, 1, 3L)] [DataRow(-5L, 1, -3L)] [DataRow(3L, 1, 2L)] [DataRow(-3L, 1, -2L)]
    [DataRow(1L, 1, 1L)] [DataRow(-1L, 1, -1L)] [DataRow(6L, 2, 2L)] [DataRow(-6L, 2, -2L)]
    [DataRow(5L, 2, 1L)] [DataRow(-5L, 2, -1L)] [DataRow(7L, 0, 7L)]
    public void RoundShiftRoundsHalfAwayFromZero(long value, int shift, long expected) =>
        Assert.AreEqual(expected, IntegerMath.RoundShift(value, shift));

    [TestMethod]
    public void SaturateClampsToSignedRange()
    {
        Assert.AreEqual(127, IntegerMath.Saturate(200, 8));
        Assert.AreEqual(-128, IntegerMath.Saturate(-200, 8));
        Assert.AreEqual(1, IntegerMath.Saturate(1, 2));
        Assert.AreEqual(-2, IntegerMath.Saturate(-3, 2));
        Assert.AreEqual(-5, IntegerMath.Saturate(-5, 8));
    }

    [TestMethod]
    public void DyadicMultiplierIsAccurateAndBounded()
    {
        var m = Dyadic.For(1.0 / 254);
        Assert.AreEqual(22, m.Shift);
        Assert.AreEqual(16513, m.Multiplier);
        foreach (double real in new[] { 3e-7, 0.001, 0.3, 0.9999, 1.5, 700.0 })
        {
            var d = Dyadic.For(real);
            Assert.IsTrue(Math.Abs(d.Multiplier) < 1 << 15, $"M0 of {real}");
            Assert.AreEqual(real, d.Multiplier * Math.Pow(2, -d.Shift), real * 1e-4 + Math.Pow(2, -Dyadic.MaxShift));
        }
    }

    [TestMethod]
    public void DotProductsAgreeWithOrWithoutVectors()
    {
        var random = new Random(3);
        var a = Enumerable.Range(0, 37).Select(_ => random.Next(-128, 128)).ToArray();
        var b = Enumerable.Range(0, 37).Select(_ => random.Next(-128, 128)).ToArray();
        long expected = a.Zip(b, (x, y) => (long)x * y).Sum();
        Assert.AreEqual(expected, IntegerMath.DotInt32(a, b));
        Assert.AreEqual(expected, IntegerMath.DotInt64(a, b));
    }

    [TestMethod]
    public void LinearLayerMatchesHandDerivedIntegers()
    {
        // W = [[1, -0.5]], b = [0.25]; 8-bit: S_w = 1/127 → Wq = [127, -64]; S_in = 0.01; S_out = 0.02.
        // Bias = round(0.25 / (0.01/127)) = 3175; M = 1/254 → M0 = 16513, n = 22.
        // x = [1.0, 0.5] → [100, 50]: acc = 3175 + 12700 - 3200 = 12675; 12675·16513 / 2^22 = 49.90 → 50.
        var weights = new LinearWeights(1, 2, [1f, -0.5f], [0.25f]);
        var layer = LinearLayer.Quantize("fc", weights, null, new QuantScale(0.01, 8), new QuantScale(0.02, 8), 8, rows: 1, relu: false);
        CollectionAssert.AreEqual(new[] { 127, -64 }, layer.Weights);
        Assert.AreEqual(3175L, layer.Bias[0]);
        Assert.AreEqual(16513L, layer.Requant.Multiplier);
        Assert.AreEqual(22, layer.Requant.Shift);
        layer.Index = 0;
        var workspace = new SimulationWorkspace([layer], 2);
        workspace.Input[0] = 100;
        workspace.Input[1] = 50;
        layer.Simulate(workspace);
        Assert.AreEqual(50, workspace.Of(layer)[0]);
        workspace.Input[0] = -100;
        workspace.Input[1] = 50;
        layer.Simulate(workspace); // -1 - 0.25 + 0.25 = -1.0 → -50
        Assert.AreEqual(-50, workspace.Of(layer)[0]);
    }

    private sealed class FixedLayer(QuantScale scale, int rows, int columns) : QuantizedLayer("fixed", LayerKind.Linear, scale, rows, columns)
    {
        public override TransformerFpga.Hardware.LayerDatapath? Datapath => null;
        public override void Simulate(SimulationWorkspace workspace) { }
    }

    [TestMethod]
    public void SoftmaxMatchesHandDerivedIntegers()
    {
        // Scores 0.0 and 1.0 at scale 0.05 → [0, 20]; e = [round(2^15·e^-1) = 12055, 32768];
        // R = floor(2^40 / 44823) = 24530076; p = (e·R·255 + 2^39) >> 40 = [69, 186] (unsigned 8 bits, Q = 2^8 - 1).
        var scores = new FixedLayer(new QuantScale(0.05, 8), 1, 2);
        var softmax = SoftmaxLayer.Quantize("softmax", scores, 8);
        scores.Index = 0;
        softmax.Index = 1;
        Assert.AreEqual(32768, softmax.ExpTable[0]);
        Assert.AreEqual(12055, softmax.ExpTable[20]);
        Assert.AreEqual((0, 255, 1.0 / 255), (softmax.Output.Min, softmax.Output.Max, softmax.Output.Scale));
        var workspace = new SimulationWorkspace([scores, softmax], 0);
        workspace.Of(scores)[0] = 0;
        workspace.Of(scores)[1] = 20;
        softmax.Simulate(workspace);
        CollectionAssert.AreEqual(new[] { 69, 186 }, workspace.Of(softmax));
    }

    [TestMethod]
    public void QuantizationRoundTripsWithinHalfAStep()
    {
        var random = new Random(5);
        foreach (int bits in new[] { 2, 4, 8, 12, 16 })
        {
            var scale = QuantScale.ForRange(3.0, bits);
            for (int i = 0; i < 1000; i++)
            {
                double x = (random.NextDouble() * 2 - 1) * 3.0;
                int q = scale.Quantize(x);
                Assert.IsTrue(q >= scale.Min && q <= scale.Max);
                Assert.AreEqual(x, scale.Dequantize(q), scale.Scale / 2 + 1e-12, $"{bits} bits");
            }
            Assert.AreEqual(scale.Max, scale.Quantize(100.0));
            Assert.AreEqual(scale.Min, scale.Quantize(-100.0));
        }
    }
}
