using TransformerFpga.Pipeline;
using TransformerFpga.Hdl;
using TransformerFpga.Hardware;
using TransformerFpga.Layers;
using TransformerFpga.Layers.Attention;
using TransformerFpga.Layers.Linear;
using TransformerFpga.Model;
using TransformerFpga.Quantization;

namespace TransformerFpga.Tests;

/// <summary>The MAC templates' register-to-register paths meet 100 MHz with margin and follow their structure.</summary>
[TestClass]
public sealed class MacTimingTests
{
    private const double BudgetNs = 9.0;
    private static readonly int[] Widths = [2, 3, 4, 5, 6, 8, 10, 12, 16];
    private static readonly int[] LaneCounts = [1, 2, 4, 8, 16, 32, 64];

    private static LinearLayer Linear(int inFeatures, int outFeatures, int weightBits, int inputBits, int rows = 24, int seed = 1)
    {
        var random = new Random(seed);
        var w = new float[inFeatures * outFeatures];
        var b = new float[outFeatures];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(random.NextDouble() * 2 - 1);
        for (int i = 0; i < b.Length; i++) b[i] = (float)(random.NextDouble() * 2 - 1);
        var input = new QuantScale(4.0 / ((1 << (inputBits - 1)) - 1), inputBits);
        return LinearLayer.Quantize("l", new LinearWeights(outFeatures, inFeatures, w, b), null, input, new QuantScale(0.05, 8), weightBits, rows, relu: false);
    }

    [TestMethod]
    public void LinearPathsMeetTheClockOverWidthsLanesAndSizes()
    {
        foreach (var (inFeatures, outFeatures) in new[] { (7, 8), (64, 64), (64, 256), (256, 64) })
            foreach (int wb in Widths)
                foreach (int xb in Widths)
                {
                    var layer = Linear(inFeatures, outFeatures, wb, xb);
                    foreach (int lanes in LaneCounts.Where(l => outFeatures % l == 0))
                        foreach (bool lut in new[] { false, true })
                        {
                            var path = new LinearHardware(layer).CriticalPath(lanes, lut);
                            Assert.IsTrue(path.Nanoseconds <= BudgetNs,
                                $"linear {inFeatures}→{outFeatures} w{wb} x{xb} lanes {lanes} lut {lut}: {path.Nanoseconds:F2} ns {path}");
                        }
                }
    }

    [TestMethod]
    public void AttentionPathsMeetTheClockOverWidthsAndLanes()
    {
        foreach (int dModel in new[] { 8, 64 })
            foreach (int window in new[] { 8, 48 })
                foreach (int qb in Widths)
                    foreach (int kb in Widths)
                    {
                        var qScaled = LinearLayer.Quantize("q", new LinearWeights(dModel, dModel, new float[dModel * dModel], new float[dModel]), null,
                            new QuantScale(1, 8), new QuantScale(0.1, qb), 8, window, relu: false);
                        var kScaled = LinearLayer.Quantize("k", new LinearWeights(dModel, dModel, new float[dModel * dModel], new float[dModel]), null,
                            new QuantScale(1, 8), new QuantScale(0.1, kb), 8, window, relu: false);
                        var scores = ScoresLayer.Quantize("s", qScaled, kScaled, 1, new QuantScale(0.05, 8));
                        var probabilities = LinearLayer.Quantize("p", new LinearWeights(window, dModel, new float[window * dModel], new float[window]), null,
                            new QuantScale(1, 8), new QuantScale(1.0 / 255, qb), 8, window, relu: false);
                        var context = ContextLayer.Quantize("c", probabilities, kScaled, 1, new QuantScale(0.05, 8));
                        foreach (int lanes in LaneCounts.Where(l => dModel % l == 0))
                            foreach (bool lut in new[] { false, true })
                            {
                                var s = new ScoresHardware(scores).CriticalPath(lanes, lut);
                                var c = new ContextHardware(context).CriticalPath(lanes, lut);
                                Assert.IsTrue(s.Nanoseconds <= BudgetNs, $"scores d{dModel} w{window} q{qb} k{kb} lanes {lanes} lut {lut}: {s.Nanoseconds:F2} ns {s}");
                                Assert.IsTrue(c.Nanoseconds <= BudgetNs, $"context d{dModel} w{window} p{qb} v{kb} lanes {lanes} lut {lut}: {c.Nanoseconds:F2} ns {c}");
                            }
                    }
    }

    [TestMethod]
    public void PathsFollowTheStructure()
    {
        // a wider accumulator lengthens the accumulate and magnitude adders
        Longer(Shape(accumulatorBits: 44), Shape(accumulatorBits: 12), "accumulator");
        // more partial products: a deeper LUT multiplier tree
        Longer(Shape(selectBits: 16, operandBits: 16, lanes: 64, lut: true, accumulatorBits: 8, multiplierBits: 4),
            Shape(selectBits: 2, operandBits: 16, lanes: 64, lut: true, accumulatorBits: 8, multiplierBits: 4), "multiplier tree");
        // a deeper weight ROM: more multiplexer levels (64 lanes: a wide word, so that the ROM read is the deepest path)
        Assert.IsTrue(MacTiming.RomRead(TimingPath.FromRegister(), 16384).Nanoseconds > MacTiming.RomRead(TimingPath.FromRegister(), 16).Nanoseconds);
        Longer(Shape(romDepth: 16384, lanes: 64, accumulatorBits: 8, multiplierBits: 4), Shape(romDepth: 16, lanes: 64, accumulatorBits: 8, multiplierBits: 4), "ROM depth");
        // a weight ROM in block RAM starts the LUT multiplier's tree at the RAMB's data output (2.45 ns, not a flip-flop's 0.46)
        Longer(Shape(lut: true, selectBits: 16, operandBits: 16, accumulatorBits: 8, multiplierBits: 4) with { WeightsInBlockRam = true },
            Shape(lut: true, selectBits: 16, operandBits: 16, accumulatorBits: 8, multiplierBits: 4), "weights in block RAM");
        // the read data fanning out to more lanes
        Longer(Shape(lanes: 64, lut: true, operandBits: 16, selectBits: 16, accumulatorBits: 8, multiplierBits: 4), Shape(lanes: 1, lut: true, operandBits: 16, selectBits: 16, accumulatorBits: 8, multiplierBits: 4), "fan-out");
        // the tree splits its levels around the register
        Assert.AreEqual((1, 0), MacTiming.TreeLevels(2));
        Assert.AreEqual((2, 1), MacTiming.TreeLevels(7));
        Assert.AreEqual((2, 2), MacTiming.TreeLevels(16));
        // the lane sums (scores, the engine) add four values per stage
        Assert.AreEqual(0, MacTiming.SumStages(1));
        Assert.AreEqual(1, MacTiming.SumStages(4));
        Assert.AreEqual(2, MacTiming.SumStages(8));
        Assert.AreEqual(3, MacTiming.SumStages(64));
        // a layer's path comes from its own widths
        Assert.IsTrue(new LinearHardware(Linear(64, 64, 16, 16)).CriticalPath(1, true).Nanoseconds > new LinearHardware(Linear(64, 64, 2, 2)).CriticalPath(1, true).Nanoseconds);
    }

    [TestMethod]
    public void TheTimingModelsWeightRomIsTheOneTheTemplateWrites()
    {
        // where the weights live decides the path, so its ROM shape must be the one the resource model parses
        foreach (var (layer, lanes) in new[] { (Linear(48, 96, 8, 8, seed: 3), 3), (Linear(8, 8, 4, 4, seed: 4), 8), (Linear(2, 16, 6, 8, seed: 5), 2) })
            foreach (var weights in new[] { BufferResource.Auto, BufferResource.Block, BufferResource.Distributed })
            {
                var hardware = new LinearHardware(layer);
                var template = VhdlTemplate.Load(hardware.Template);
                hardware.Fill(template, lanes, lutMultipliers: true, weights: weights);
                var parsed = VhdlModule.Parse(template.ToString()).Roms.Single(r => r.Name == "WEIGHTS");
                Assert.AreEqual(parsed, hardware.WeightRom(lanes, weights));
                Assert.AreEqual(weights, parsed.Style);
            }
        // a 1536 × 24 weight ROM goes to block RAM (one RAMB36 at cost 283 against 576 in logic), as Yosys mapped d808's fc1 of that shape
        Assert.IsTrue(RomBlocks.IsBlock(new LinearHardware(Linear(48, 96, 8, 8, seed: 3)).WeightRom(3)));
        // a WeightResource item overrides the rule both ways, and the path follows where the ROM is
        var small = new LinearHardware(Linear(8, 8, 4, 4, seed: 4));
        Assert.IsFalse(RomBlocks.IsBlock(small.WeightRom(1)));
        Assert.IsTrue(RomBlocks.IsBlock(small.WeightRom(1, BufferResource.Block)));
        Assert.IsFalse(RomBlocks.IsBlock(new LinearHardware(Linear(48, 96, 8, 8, seed: 3)).WeightRom(3, BufferResource.Distributed)));
        Assert.IsTrue(small.Shape(1, true, BufferResource.Block).WeightsInBlockRam);
        Assert.IsFalse(small.Shape(1, true).WeightsInBlockRam);
    }

    private static void Longer(MacTiming.Shape longer, MacTiming.Shape shorter, string what)
    {
        var a = MacTiming.CriticalPath(longer);
        var b = MacTiming.CriticalPath(shorter);
        Assert.IsTrue(a.Nanoseconds > b.Nanoseconds, $"{what}: {a.Nanoseconds:F2} ns ({a}) vs {b.Nanoseconds:F2} ns ({b})");
    }

    private static MacTiming.Shape Shape(int accumulatorBits = 20, int selectBits = 8, int romDepth = 64, int lanes = 1, bool lut = false, int multiplierBits = 16, int operandBits = 8) =>
        new(OperandBits: operandBits, SelectBits: selectBits, Lanes: lanes, AccumulatorBits: accumulatorBits, MultiplierBits: multiplierBits, OutputBits: 8,
            CounterBits: 8, RomDepth: romDepth, RomWidth: 8 * lanes, SumStages: 0, LutMultipliers: lut);
}
