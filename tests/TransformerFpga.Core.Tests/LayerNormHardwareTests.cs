using TransformerFpga.Hardware;
using TransformerFpga.Hdl;
using TransformerFpga.Layers;
using TransformerFpga.Layers.Norm;
using TransformerFpga.Model;
using TransformerFpga.Quantization;

namespace TransformerFpga.Tests;

/// <summary>The layer norm's hardware meets the clock and its DSP budget at every precision and width.</summary>
[TestClass]
public sealed class LayerNormHardwareTests
{
    private const double ClockNs = 9.0;
    private static readonly int[] Widths = [1, 2, 3, 8, 16, 20, 64, 100, 512];

    private sealed class FixedLayer(QuantScale scale, int rows, int columns) : QuantizedLayer("fixed", LayerKind.Linear, scale, rows, columns)
    {
        public override TransformerFpga.Hardware.LayerDatapath? Datapath => null;
        public override void Simulate(SimulationWorkspace workspace) { }
    }

    /// <summary>Layer norms over every input/output precision and d_model, at a coarse and a fine input scale (the fine one makes the epsilon term, and so the root, wide).</summary>
    private static IEnumerable<(LayerNormLayer Layer, string Name)> Norms()
    {
        var random = new Random(5);
        foreach (int d in Widths)
            foreach (int bits in new[] { 2, 3, 4, 6, 8, 12, 16 })
                foreach (double inputScale in new[] { 4.0 / (1 << (bits - 1)), 1e-4 })
                {
                    var gamma = Enumerable.Range(0, d).Select(_ => (float)(random.NextDouble() * 3 - 1)).ToArray();
                    var beta = Enumerable.Range(0, d).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
                    var source = new FixedLayer(new QuantScale(inputScale, bits), 4, d);
                    var output = new QuantScale(4.0 / (1 << (bits - 1)), bits);
                    yield return (LayerNormLayer.Quantize("norm", new NormWeights(gamma, beta, null, null), source, output), $"d {d}, {bits} bits, input scale {inputScale}");
                }
    }

    [TestMethod]
    public void EveryRegisterToRegisterPathMeetsTheClock()
    {
        double worst = 0;
        foreach (var (layer, name) in Norms())
            foreach (bool lut in new[] { false, true })
            {
                var path = new LayerNormHardware(layer).CriticalPath(1, lut);
                worst = Math.Max(worst, path.Nanoseconds);
                Assert.IsTrue(path.Nanoseconds <= ClockNs, $"{name}, LUT multipliers {lut}: {path.Nanoseconds:F2} ns over {path}");
            }
        // the model is not vacuous: the widest norms have paths of several nanoseconds
        Assert.IsTrue(worst > 4.0, $"worst path {worst:F2} ns");
    }

    /// <summary>
    /// Three products (x², |D|·2^sh·R, |u|·|G|): each one DSP48E1 while its operands fit 24 × 17 bits, which the
    /// normalised 17-bit reciprocal keeps true up to a 24-bit root; none from LUT multipliers.
    /// </summary>
    [TestMethod]
    public void ThreeProductsTakeOneDspEachAndNoneFromLuts()
    {
        foreach (var (layer, name) in Norms())
            foreach (bool lut in new[] { false, true })
            {
                var hardware = new LayerNormHardware(layer);
                var template = VhdlTemplate.Load(hardware.Template);
                hardware.Fill(template, 1, lut);
                // as the generator sizes them
                template.SetPortWidth("src0_rd_data", layer.Sources[0].Output.Bits).SetPortWidth("wr_data", layer.Output.Bits);
                var module = VhdlModule.Parse(template.ToString());
                int dsp = NormResources.LayerDsp(module);
                Assert.AreEqual(lut, module.UsesLutMultipliers, name);
                if (lut) { Assert.AreEqual(0, dsp, name); continue; }
                int bits = layer.Sources[0].Output.Bits;
                // x² of 4 bits or fewer is a product of under 9 bits, which synthesis leaves in LUTs
                int expected = (bits >= 5 ? 1 : 0) + (hardware.RootBits <= 24 ? 1 : 2) + 1;
                Assert.AreEqual(expected, dsp, $"{name}: root {hardware.RootBits} bits");
            }
    }
}
