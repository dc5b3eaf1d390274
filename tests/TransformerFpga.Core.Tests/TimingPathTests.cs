using TransformerFpga.Hardware;
using TransformerFpga.Hdl;
using TransformerFpga.Layers;
using TransformerFpga.Layers.Attention;
using TransformerFpga.Layers.Norm;
using TransformerFpga.Layers.Pooling;
using TransformerFpga.Layers.PositionalEncoding;
using TransformerFpga.Layers.Residual;
using TransformerFpga.Model;
using TransformerFpga.Quantization;

namespace TransformerFpga.Tests;

/// <summary>
/// The pipelined non-MAC templates and the top close 100 MHz with margin by the delay table: every
/// register-to-register path at most <see cref="Budget"/> ns over widths 2–16 bits and layer sizes, and
/// the paths follow the structure (wider, deeper, more readers → not faster; a longer carry → slower).
/// </summary>
[TestClass]
public sealed class TimingPathTests
{
    private const double Budget = 9.0;
    private static readonly int[] Bits = [2, 3, 4, 6, 8, 10, 12, 14, 16];
    private static readonly (int Rows, int Columns)[] Shapes = [(1, 1), (8, 8), (24, 16), (48, 64), (512, 512)];

    private sealed class Source(QuantScale scale, int rows, int columns) : QuantizedLayer("source", LayerKind.Linear, scale, rows, columns)
    {
        public override TransformerFpga.Hardware.LayerDatapath? Datapath => null;
        public override void Simulate(SimulationWorkspace workspace) { }
    }

    private static Source Input(int bits, int rows, int columns, double scale = 0.05) => new(new QuantScale(scale, bits), rows, columns);

    private static void AssertWithin(TimingPath path, string what) =>
        Assert.IsTrue(path.Nanoseconds <= Budget, $"{what}: {path.Nanoseconds:F2} ns over {path}");

    [TestMethod]
    public void StreamingKindsMeetTheBudget()
    {
        foreach (int xb in Bits)
            foreach (int yb in Bits)
                foreach (var (rows, columns) in Shapes)
                {
                    string what = $"{xb}→{yb} bits, {rows}×{columns}";
                    var a = Input(xb, rows, columns);
                    var b = Input(yb, rows, columns, 0.11);
                    AssertWithin(new ResidualHardware(ResidualAddLayer.Quantize("add", a, b, new QuantScale(0.07, yb))).CriticalPath(1, false), "residual " + what);
                    AssertWithin(new PositionalEncodingHardware(PositionalEncodingLayer.Quantize("pe", a, new QuantScale(0.03, yb), rows, columns)).CriticalPath(1, false), "posenc " + what);
                    AssertWithin(new BatchNormHardware(BatchNorm(a, yb)).CriticalPath(1, false), "batchnorm " + what);
                    AssertWithin(new PoolingHardware(AveragePoolLayer.Quantize("pool", a, new QuantScale(0.01, yb))).CriticalPath(1, false), "pool " + what);
                }
    }

    [TestMethod]
    public void SoftmaxMeetsTheBudget()
    {
        foreach (int xb in Bits)
            foreach (int yb in Bits)
                foreach (var (rows, columns) in Shapes)
                    foreach (double scale in new[] { 1e-4, 0.01, 0.5 })
                    {
                        var softmax = SoftmaxLayer.Quantize("softmax", Input(xb, rows, columns, scale), yb);
                        AssertWithin(new SoftmaxHardware(softmax).CriticalPath(1, false), $"softmax {xb}→{yb} bits, {rows}×{columns}, scale {scale}");
                    }
    }

    [TestMethod]
    public void SequencerMeetsTheBudget()
    {
        foreach (int layers in new[] { 1, 4, 17, 60 })
            foreach (int readers in new[] { 1, 2, 4 })
                foreach (long depth in new[] { 16L, 64, 384, 1536, 4096 })
                    AssertWithin(HardwareModel.SequencerPath(layers, readers, depth), $"top: {layers} layers, {readers} readers, {depth}-word LUT RAM");
    }

    [TestMethod]
    public void PathsFollowTheStructure()
    {
        // The top: more layers or readers or a deeper LUT RAM never shorten a path, and the largest case is longer.
        Assert.IsTrue(HardwareModel.SequencerPath(60, 1, 16).Nanoseconds > HardwareModel.SequencerPath(1, 1, 16).Nanoseconds);
        Assert.IsTrue(HardwareModel.SequencerPath(1, 4, 16).Nanoseconds > HardwareModel.SequencerPath(1, 1, 16).Nanoseconds);
        Assert.IsTrue(HardwareModel.SequencerPath(1, 1, 4096).Nanoseconds > HardwareModel.SequencerPath(1, 1, 16).Nanoseconds);

        // The requantizer's carry chains grow with the sum: a wide batch-norm sum (large offsets) is slower than a narrow one.
        var narrow = new BatchNormHardware(BatchNorm(Input(2, 8, 8), 2, offset: 0.0)).CriticalPath(1, false);
        var wide = new BatchNormHardware(BatchNorm(Input(16, 8, 8), 16, offset: 1000.0)).CriticalPath(1, false);
        Assert.IsTrue(wide.Nanoseconds > narrow.Nanoseconds, $"{wide.Nanoseconds} vs {narrow.Nanoseconds}");

        // The shared stages: a 1,024-word ROM (MUXF7/F8 and a LUT level) is slower than a 64-word one, a 64-bit
        // requantizer slower than an 8-bit one.
        var shortRom = PipelineTiming.RomRead(64);
        var longRom = PipelineTiming.RomRead(1024);
        Assert.IsTrue(longRom.Nanoseconds > shortRom.Nanoseconds, $"{longRom.Nanoseconds} vs {shortRom.Nanoseconds}");
        Assert.IsTrue(PipelineTiming.Requantizer(64, 16).Nanoseconds > PipelineTiming.Requantizer(8, 2).Nanoseconds);

        // Every path starts at a register or RAM/DSP output and ends at a register, with net hops counted.
        foreach (var path in new[] { narrow, wide, shortRom, longRom })
        {
            Assert.AreEqual("FF", path.Steps[^1]);
            Assert.IsTrue(path.Hops >= 1);
        }
    }

    private static BatchNormLayer BatchNorm(QuantizedLayer source, int bits, double offset = 0.3)
    {
        int d = source.Columns;
        var weight = Enumerable.Range(0, d).Select(c => (float)(c % 2 == 0 ? 0.5 + c * 0.01 : -1.5)).ToArray();
        var bias = Enumerable.Range(0, d).Select(c => (float)(offset * (c % 3 - 1))).ToArray();
        var mean = Enumerable.Range(0, d).Select(c => (float)(0.1 * c)).ToArray();
        var variance = Enumerable.Range(0, d).Select(c => (float)(1 + 0.2 * c)).ToArray();
        return BatchNormLayer.Quantize("norm", new NormWeights(weight, bias, mean, variance), source, new QuantScale(0.04, bits));
    }
}
