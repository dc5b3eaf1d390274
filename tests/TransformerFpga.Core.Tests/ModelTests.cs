using TransformerFpga.Float;
using TransformerFpga.Integer;
using TransformerFpga.Model;

namespace TransformerFpga.Tests;

[TestClass]
public sealed class ModelTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void SafeTensorsRoundTrip()
    {
        var tensors = new Dictionary<string, Tensor>
        {
            ["b"] = new([2, 3], [1, 2, 3, 4, 5, 6]),
            ["a"] = new([1], [-0.5f]),
        };
        var bytes = SafeTensors.Serialize(tensors);
        Assert.AreEqual(0, (bytes.Length - 8 - 28) % 4);
        var back = SafeTensors.Parse(bytes, "x.safetensors");
        CollectionAssert.AreEqual(tensors["b"].Data, back["b"].Data);
        CollectionAssert.AreEqual(tensors["b"].Shape, back["b"].Shape);
        CollectionAssert.AreEqual(tensors["a"].Data, back["a"].Data);
        CollectionAssert.AreEqual(bytes, SafeTensors.Serialize(back));
    }

    [TestMethod]
    public void PyTorchNamesLoadLikeCanonicalNames()
    {
        using var folder = new TestFolder();
        var spec = new SyntheticModelSpec(DModel: 8, Heads: 2, EncoderLayers: 2);
        var canonical = ModelLoader.LoadConfig(SyntheticModel.Write(folder.File("c"), spec, seed: 11));
        var pytorch = ModelLoader.LoadConfig(SyntheticModel.Write(folder.File("p"), spec, seed: 11, pytorchNames: true));
        var a = TransformerWeights.Load(canonical);
        var b = TransformerWeights.Load(pytorch);
        Assert.IsFalse(SafeTensors.Read(pytorch.WeightsPath).ContainsKey("encoder.0.attn.q.weight"), "the PyTorch file must really use PyTorch names");
        var window = Enumerable.Range(0, 16).Select(i => (float)Math.Sin(i)).ToArray();
        CollectionAssert.AreEqual(new FloatTransformer(canonical, a).Forward(window), new FloatTransformer(pytorch, b).Forward(window));
        CollectionAssert.AreEqual(a.Encoders[1].V.W, b.Encoders[1].V.W);
        CollectionAssert.AreEqual(a.Encoders[1].Fc2.B, b.Encoders[1].Fc2.B);
    }

    [TestMethod]
    public void FloatReferenceMatchesHandComputation()
    {
        // Window 2, one feature, d = 2, one head, ffn 1, batch norm with identity statistics.
        var config = new ModelConfig("tiny", "m.json", "w", 2, 1, 1, 2, 1, 1, 1, NormKind.Batch,
            new DataConfig("c", "t", ["x"], ["x"], [0], [1], [0], [1]));
        LinearWeights L(int o, int i, float[] w, float[] b) => new(o, i, w, b);
        var identityNorm = new NormWeights([1, 1], [0, 0], [0, 0], [1 - 1e-5f, 1 - 1e-5f]);
        var encoder = new EncoderWeights(
            Q: L(2, 2, [1, 0, 0, 1], [0, 0]), K: L(2, 2, [1, 0, 0, 1], [0, 0]), V: L(2, 2, [1, 0, 0, 1], [0, 0]),
            Out: L(2, 2, [1, 0, 0, 1], [0, 0]), Norm1: identityNorm,
            Fc1: L(1, 2, [1, 1], [0]), Fc2: L(2, 1, [1, -1], [0, 0]), Norm2: identityNorm);
        var weights = new TransformerWeights(L(2, 1, [1, 2], [0, 0]), [encoder], L(1, 2, [0.5f, 0.25f], [1]));
        double y = new FloatTransformer(config, weights).Forward([1f, -1f])[0];

        // Hand computation. PE: t=0 → [sin 0, cos 0] = [0, 1]; t=1 → [sin 1, cos 1].
        double[][] h = [[1 + 0, 2 + 1], [-1 + Math.Sin(1), -2 + Math.Cos(1)]];
        double Dot(double[] a, double[] b) => a[0] * b[0] + a[1] * b[1];
        var context = new double[2][];
        for (int i = 0; i < 2; i++)
        {
            double s0 = Dot(h[i], h[0]) / Math.Sqrt(2), s1 = Dot(h[i], h[1]) / Math.Sqrt(2);
            double p0 = Math.Exp(s0) / (Math.Exp(s0) + Math.Exp(s1)), p1 = 1 - p0;
            context[i] = [p0 * h[0][0] + p1 * h[1][0], p0 * h[0][1] + p1 * h[1][1]];
        }
        double pooled0 = 0, pooled1 = 0;
        for (int i = 0; i < 2; i++)
        {
            double[] n1 = [h[i][0] + context[i][0], h[i][1] + context[i][1]];
            double hidden = Math.Max(0, n1[0] + n1[1]);
            double[] n2 = [n1[0] + hidden, n1[1] - hidden];
            pooled0 += n2[0] / 2;
            pooled1 += n2[1] / 2;
        }
        Assert.AreEqual(0.5 * pooled0 + 0.25 * pooled1 + 1, y, 1e-5);
    }

    [TestMethod]
    public void IntegerModelTracksFloatCloserAsBitsGrow()
    {
        using var folder = new TestFolder();
        var config = ModelLoader.LoadConfig(SyntheticModel.Write(folder.Path, new SyntheticModelSpec(DModel: 16, Window: 12, InputFeatures: 3, FfnDim: 32, Rows: 300), seed: 4));
        var evaluation = new ModelEvaluation(config, TransformerWeights.Load(config));
        double previous = double.MaxValue;
        foreach (int bits in new[] { 6, 8, 12, 16 })
        {
            double mse = evaluation.Evaluate(evaluation.Quantize(_ => new LayerBits(bits, bits))).IntegerVsFloat.Mse;
            Assert.IsTrue(mse < previous, $"{bits} bits: integer-vs-float MSE {mse} is not below {previous}");
            previous = mse;
        }
        Assert.IsTrue(previous < 1e-4, $"16-bit integer model is far from the float model: MSE {previous}");
    }

    /// <summary>
    /// A LayerNorm model's integer simulation against its own float model: the integer-vs-float error, relative to
    /// the spread of the float model's outputs, shrinks with the bits and is small at 8 bits (the targets play no part).
    /// Measured on this model: 6 bits 4.0e-3, 8 bits 2.9e-4, 12 bits 1.1e-6, 16 bits 2e-8.
    /// </summary>
    [TestMethod]
    public void LayerNormModelsTrackTheirFloatModel()
    {
        using var folder = new TestFolder();
        var config = ModelLoader.LoadConfig(SyntheticModel.Write(folder.Path, new SyntheticModelSpec(Norm: "layer", Heads: 2, EncoderLayers: 2), seed: 8));
        var evaluation = new ModelEvaluation(config, TransformerWeights.Load(config));
        var outputs = evaluation.FloatPredictions.SelectMany(p => p).ToArray();
        double spread = outputs.Select(v => (v - outputs.Average()) * (v - outputs.Average())).Average();
        Assert.IsTrue(spread > 0, "the float model's outputs do not vary");
        var relative = new[] { 6, 8, 12, 16 }.ToDictionary(bits => bits,
            bits => evaluation.Evaluate(evaluation.Quantize(_ => new LayerBits(bits, bits))).IntegerVsFloat.Mse / spread);
        TestContext.WriteLine(string.Join(", ", relative.Select(r => $"{r.Key} bits: {r.Value:G3}")));
        Assert.IsTrue(relative[8] < relative[6] && relative[12] < relative[8] && relative[16] < relative[12], "the error does not shrink with the bits");
        Assert.IsTrue(relative[8] < 0.01, $"8-bit integer-vs-float MSE is {relative[8]:P1} of the float outputs' variance");
        Assert.IsTrue(relative[16] < 1e-6, $"16-bit integer-vs-float MSE is {relative[16]:G3} of the float outputs' variance");
    }
}
