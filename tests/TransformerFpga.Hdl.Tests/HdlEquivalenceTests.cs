using System.Diagnostics;
using System.Globalization;
using TransformerFpga.Integer;
using TransformerFpga.Layers.Attention;
using TransformerFpga.Layers.Linear;
using TransformerFpga.Layers.Norm;
using TransformerFpga.Model;
using TransformerFpga.Pipeline;
using TransformerFpga.Reports;

[assembly: Parallelize(Workers = 2, Scope = ExecutionScope.MethodLevel)]

namespace TransformerFpga.Hdl.Tests;

/// <summary>
/// The generated VHDL, run by GHDL, reproduces the integer simulator bit for bit and takes exactly
/// the cycles of the C# latency model, on seeded random models and random per-layer plans.
/// </summary>
[TestClass]
public sealed class HdlEquivalenceTests
{
    public TestContext TestContext { get; set; } = null!;

    // (seed, window, features, dModel, heads, ffn, layers, norm, max lanes, min bits, max bits)
    public static IEnumerable<object[]> Cases =>
    [
        [1, 8, 1, 8, 1, 16, 1, "batch", 1, 2, 8],
        [2, 8, 2, 8, 2, 16, 1, "batch", 2, 2, 8],
        [3, 12, 3, 16, 4, 32, 1, "batch", 4, 2, 8],
        [4, 8, 7, 8, 1, 8, 2, "batch", 8, 2, 8],
        [5, 16, 2, 16, 2, 32, 2, "batch", 8, 2, 8],
        [6, 24, 3, 16, 1, 64, 1, "batch", 4, 2, 8],
        [7, 10, 5, 12, 4, 24, 1, "batch", 3, 2, 8],
        [8, 32, 1, 8, 2, 16, 1, "batch", 2, 2, 8],
        [9, 48, 2, 8, 1, 8, 1, "batch", 8, 2, 8],
        [10, 8, 4, 32, 4, 64, 1, "batch", 8, 2, 8],
        [11, 8, 1, 64, 4, 64, 1, "batch", 8, 2, 8],
        [12, 16, 6, 24, 2, 48, 2, "batch", 6, 2, 8],
        [13, 8, 1, 8, 1, 16, 1, "layer", 1, 2, 8],
        [14, 8, 2, 8, 2, 16, 1, "layer", 2, 2, 8],
        [15, 12, 3, 16, 4, 32, 2, "layer", 4, 2, 8],
        [16, 8, 7, 32, 2, 32, 1, "layer", 8, 2, 8],
        [17, 24, 2, 16, 1, 32, 1, "layer", 8, 2, 8],
        [18, 8, 3, 64, 4, 64, 1, "layer", 8, 2, 8],
        [19, 48, 1, 8, 2, 16, 1, "layer", 4, 2, 8],
        [20, 10, 5, 20, 4, 40, 2, "layer", 5, 2, 8],
        [21, 8, 2, 8, 2, 16, 1, "batch", 4, 2, 3],
        [22, 8, 3, 8, 1, 16, 1, "layer", 4, 2, 3],
        [23, 8, 2, 16, 2, 32, 1, "batch", 8, 12, 16],
        [24, 8, 2, 16, 4, 32, 1, "layer", 8, 12, 16],
    ];

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void GhdlMatchesSimulator(int seed, int window, int features, int dModel, int heads, int ffn, int layers, string norm, int maxLanes, int minBits, int maxBits)
    {
        var spec = new SyntheticModelSpec(Window: window, InputFeatures: features, OutputFeatures: Math.Min(features, 1 + seed % 2),
            DModel: dModel, Heads: heads, FfnDim: ffn, EncoderLayers: layers, Norm: norm, Rows: window + 40, Name: "m" + seed.ToString(CultureInfo.InvariantCulture));
        HdlCase.Run(spec, seed, maxLanes, minBits, maxBits, windows: 3, TestContext);
    }

    /// <summary>Layer norms with LUT multipliers (2-bit digits) at narrow and wide precisions; the random plans above leave them to chance.</summary>
    [TestMethod]
    [DataRow(31, 8, 2, 16, 2, 32, 2, 8)]
    [DataRow(32, 8, 2, 16, 4, 32, 12, 16)]
    public void GhdlMatchesSimulatorWithLutLayerNorms(int seed, int window, int features, int dModel, int heads, int ffn, int minBits, int maxBits)
    {
        var spec = new SyntheticModelSpec(Window: window, InputFeatures: features, OutputFeatures: 1,
            DModel: dModel, Heads: heads, FfnDim: ffn, EncoderLayers: 1, Norm: "layer", Rows: window + 40, Name: "n" + seed.ToString(CultureInfo.InvariantCulture));
        HdlCase.Run(spec, seed, 4, minBits, maxBits, windows: 2, TestContext, lutNorms: true);
    }
}

internal static class HdlCase
{
    /// <param name="engine">Build the Engine architecture with these settings (the layers it does not run keep their drawn choices).</param>
    public static void Run(SyntheticModelSpec spec, int seed, int maxLanes, int minBits, int maxBits, int windows, TestContext? context, bool lutNorms = false,
        EngineSettings? engine = null)
    {
        _ = Ghdl.Executable;
        using var folder = new TestFolder();
        var config = ModelLoader.LoadConfig(SyntheticModel.Write(folder.File("model"), spec, seed));
        var weights = TransformerWeights.Load(config);
        var evaluation = new ModelEvaluation(config, weights);
        var random = new Random(seed * 7919 + 17);
        var names = IntegerTransformer.LayerNames(config);
        var bits = names.ToDictionary(n => n, _ => new LayerBits(random.Next(minBits, maxBits + 1), random.Next(minBits, maxBits + 1)));
        var buffers = names.ToDictionary(n => n, _ => random.Next(3) switch { 0 => BufferResource.Block, 1 => BufferResource.Distributed, _ => BufferResource.Auto });
        var model = evaluation.Quantize(n => bits[n]);
        var lanes = names.ToDictionary(n => n, _ => 1);
        foreach (var layer in model.Layers.Where(l => l is LinearLayer or ScoresLayer or ContextLayer))
        {
            var divisors = HardwareModel.ValidLanes(layer).Where(d => d <= maxLanes).ToArray();
            lanes[layer.Name] = divisors[random.Next(divisors.Length)];
        }
        // A quarter of the layers build their multipliers from LUTs (shift and add).
        var multipliers = names.ToDictionary(n => n, _ => random.Next(4) == 0 ? MultiplierMapping.Lut : MultiplierMapping.Auto);
        if (lutNorms)
            foreach (var norm in model.Layers.Where(l => l is LayerNormLayer))
                multipliers[norm.Name] = MultiplierMapping.Lut;
        // A WeightResource per layer (from a generator of its own, so that the other draws stay as they were): a chosen
        // weight memory makes the ROM a signal with a rom_style, which must simulate as the constant does.
        var weightRandom = new Random(seed * 31 + 5);
        var weightMemory = names.ToDictionary(n => n, _ => weightRandom.Next(3) switch { 0 => BufferResource.Block, 1 => BufferResource.Distributed, _ => BufferResource.Auto });
        var plan = LayerPlan.From(names, n => new LayerChoice(bits[n], buffers[n], lanes[n], multipliers[n], LanesExplicit: true, Weights: weightMemory[n]));
        HardwareModel.ValidateLanes(model, plan, "test.csproj");
        plan = plan.WithEngine(engine);

        Check(evaluation, model, plan, spec.Name, windows, context, folder);
    }

    /// <summary>A real model at the given bits and buffer memory (every layer 1 lane), on the engine when <paramref name="engine"/> is set.</summary>
    public static HdlGenerator.Design RunModel(ModelConfig config, Func<string, LayerBits> bits, BufferResource buffers, EngineSettings? engine, int windows, TestContext? context)
    {
        using var folder = new TestFolder();
        var evaluation = new ModelEvaluation(config, TransformerWeights.Load(config));
        var model = evaluation.Quantize(bits);
        var plan = LayerPlan.From(model.Layers.Select(l => l.Name).ToList(), n => new LayerChoice(bits(n), buffers, 1, MultiplierMapping.Auto)).WithEngine(engine);
        return Check(evaluation, model, plan, config.Name, windows, context, folder);
    }

    /// <summary>Generates the design, runs it in GHDL on test windows and holds its outputs and cycles against the simulator and the latency model.</summary>
    private static HdlGenerator.Design Check(ModelEvaluation evaluation, IntegerTransformer model, LayerPlan plan, string name, int windows, TestContext? context, TestFolder folder)
    {
        _ = Ghdl.Executable;
        int count = Math.Min(windows, evaluation.Test.Count);
        var inputs = Enumerable.Range(0, count).Select(i =>
        {
            var q = new int[model.InputElements];
            model.QuantizeInput(evaluation.Test.Inputs[i * (evaluation.Test.Count - 1) / Math.Max(1, count - 1)], q);
            return q;
        }).ToList();

        var outputs = new OutputWriter();
        var design = HdlGenerator.Generate(model, plan, name, inputs, outputs);
        string root = Environment.GetEnvironmentVariable("TFPGA_HDL_KEEP") is { Length: > 0 } keep ? Path.Combine(keep, name) : folder.File("out");
        outputs.Commit(root, "hdl");
        var watch = Stopwatch.StartNew();
        var (code, output) = Ghdl.Run("/bin/sh", "run_ghdl.sh", Path.Combine(root, "hdl"));
        watch.Stop();
        long expectedCycles = HardwareModel.TotalCycles(model, plan);
        context?.WriteLine($"{name}: {design.Layers.Count} layers, {expectedCycles} cycles/window, GHDL {watch.Elapsed.TotalSeconds:F1} s");
        Assert.AreEqual(0, code, "run_ghdl.sh failed:\n" + Tail(output));
        string vectors = Path.Combine(root, "hdl", "vectors");
        var expected = File.ReadAllLines(Path.Combine(vectors, design.Top + "_expected.txt"));
        var actual = File.ReadAllLines(Path.Combine(vectors, design.Top + "_out.txt"));
        CollectionAssert.AreEqual(expected, actual, "outputs differ from the simulator");
        var cycles = File.ReadAllLines(Path.Combine(vectors, design.Top + "_cycles.txt"));
        Assert.AreEqual(count, cycles.Length);
        foreach (string line in cycles)
            Assert.AreEqual(expectedCycles, long.Parse(line.Trim(), CultureInfo.InvariantCulture), "GHDL cycles differ from HardwareModel.TotalCycles");
        return design;
    }

    private static string Tail(string text) => text.Length <= 4000 ? text : "…" + text[^4000..];
}
