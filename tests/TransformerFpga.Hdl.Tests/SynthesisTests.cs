using System.Globalization;
using System.Text.RegularExpressions;
using TransformerFpga.Hardware;
using TransformerFpga.Integer;
using TransformerFpga.Model;
using TransformerFpga.Pipeline;
using TransformerFpga.Reports;

namespace TransformerFpga.Hdl.Tests;

/// <summary>
/// The generated yosys/synth.ys runs (GHDL → Verilog → synth_xilinx) on small designs: block buffers
/// become RAMB18E1, distributed ones LUT RAM, and a layer whose Multiplier is Lut has no DSP48E1.
/// Also the bundled Seattle sample, built through FpgaBuild.Run, passes its GHDL testbench.
/// </summary>
[TestClass]
public sealed class SynthesisTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(BufferResource.Block, 31)]
    [DataRow(BufferResource.Distributed, 32)]
    public void YosysMapsBuffersAndLutMultipliers(BufferResource buffers, int seed)
    {
        string yosys = Tool("yosys");
        _ = Ghdl.Executable;
        using var folder = new TestFolder();
        var spec = new SyntheticModelSpec(Window: 8, InputFeatures: 2, DModel: 8, Heads: 1, FfnDim: 16, Name: "syn" + seed.ToString(CultureInfo.InvariantCulture));
        var config = ModelLoader.LoadConfig(SyntheticModel.Write(folder.File("model"), spec, seed));
        var evaluation = new ModelEvaluation(config, TransformerWeights.Load(config));
        var model = evaluation.Quantize(_ => new LayerBits(8, 8));
        var names = IntegerTransformer.LayerNames(config);
        const string lutLayer = "encoder0.ffn.fc1", lutScores = "encoder0.attn.scores", blockWeights = "encoder0.ffn.fc2", lutWeights = "encoder0.attn.q";
        // WeightResource: fc2's 64-word weight ROM, which the cost rule leaves in LUTs, in block RAM; q's in LUTs as Auto has it.
        var plan = LayerPlan.From(names, n => new LayerChoice(new LayerBits(8, 8), buffers, n.StartsWith("encoder0.", StringComparison.Ordinal) ? 2 : 1,
            n is lutLayer or lutScores ? MultiplierMapping.Lut : MultiplierMapping.Dsp,
            Weights: n switch { blockWeights => BufferResource.Block, lutWeights => BufferResource.Distributed, _ => BufferResource.Auto }));
        var outputs = new OutputWriter();
        var design = HdlGenerator.Generate(model, plan, spec.Name, TestVectors.Select(model, evaluation.Test.Inputs, evaluation.Evaluate(model).QuantizedOutputs, 2), outputs);
        SynthesisScripts.Generate(design, "xc7s15ftgb196-1", 100, outputs);
        string root = folder.File("out");
        outputs.Commit(root, "hdl", "yosys", "vivado");

        var modules = SynthesizedModules(yosys, root);
        TestContext.WriteLine(string.Join("\n", modules.Select(m => m.Key + ": " + string.Join(", ", m.Value.Select(c => c.Key + " " + c.Value)))));

        long Count(Func<string, bool> module, string cell) => modules.Where(m => module(m.Key)).Sum(m => m.Value.GetValueOrDefault(cell));
        bool IsBuffer(string m) => m.EndsWith("_buf", StringComparison.Ordinal);
        if (buffers == BufferResource.Block)
            Assert.IsTrue(Count(IsBuffer, "RAMB18E1") + Count(IsBuffer, "RAMB36E1") > 0, "block buffers use no RAMB18E1");
        else
        {
            Assert.AreEqual(0, Count(IsBuffer, "RAMB18E1") + Count(IsBuffer, "RAMB36E1"), "distributed buffers use block RAM");
            Assert.IsTrue(new[] { "RAM32M", "RAM64M", "RAM32X1D", "RAM64X1D", "RAM128X1D", "RAM32M16", "RAM64M8" }.Sum(c => Count(IsBuffer, c)) > 0, "distributed buffers use no LUT RAM");
        }
        foreach (string lut in new[] { lutLayer, lutScores })
        {
            string entity = design.Layers.Single(l => l.Layer.Name == lut).Entity;
            Assert.IsTrue(modules.ContainsKey(entity), $"no module {entity} in the statistics");
            Assert.AreEqual(0, Count(m => m == entity, "DSP48E1"), $"{lut} (Multiplier Lut) uses DSP48E1");
        }
        string dspLayer = design.Layers.Single(l => l.Layer.Name == "encoder0.ffn.fc2").Entity;
        Assert.IsTrue(Count(m => m == dspLayer, "DSP48E1") > 0, "encoder0.ffn.fc2 (Multiplier Dsp) uses no DSP48E1");
        // The chosen weight memories: Yosys maps them as the estimate counts them.
        foreach (string layer in new[] { blockWeights, lutWeights })
        {
            var info = design.Layers.Single(l => l.Layer.Name == layer);
            var module = ResourceModel.LayerModule(info, outputs.Text("hdl/" + info.Entity + ".vhd"));
            int expected = ResourceModel.Counted(module).Bram18;
            Assert.AreEqual(layer == blockWeights ? 1 : 0, expected, $"{layer}: the estimate's RAMB18");
            Assert.AreEqual(expected, Count(m => m == info.Entity, "RAMB18E1") + 2 * Count(m => m == info.Entity, "RAMB36E1"), $"{layer}: RAMB18 in Yosys");
        }
    }

    /// <summary>
    /// The shared MAC engine goes through GHDL's synthesis and synth_xilinx, and its DSP48E1 and RAMB18 are what the
    /// estimate counts: one DSP per DSP lane, one for the requantizer and three for the write-back (a residual add's two
    /// products, then a batch norm's; `resources fit … --engine` checks them too), here with one of four lanes in LUTs and
    /// the weight ROM forced into block RAM.
    /// </summary>
    [TestMethod]
    [DataRow(4, 1, "Block", 41)]
    public void YosysMapsTheEngine(int lanes, int lutLanes, string weights, int seed)
    {
        string yosys = Tool("yosys");
        _ = Ghdl.Executable;
        using var folder = new TestFolder();
        var spec = new SyntheticModelSpec(Window: 8, InputFeatures: 2, DModel: 16, Heads: 2, FfnDim: 32, Name: "eng" + seed.ToString(CultureInfo.InvariantCulture));
        var config = ModelLoader.LoadConfig(SyntheticModel.Write(folder.File("model"), spec, seed));
        var evaluation = new ModelEvaluation(config, TransformerWeights.Load(config));
        var model = evaluation.Quantize(_ => new LayerBits(8, 8));
        var plan = LayerPlan.From(IntegerTransformer.LayerNames(config), _ => new LayerChoice(new LayerBits(8, 8), BufferResource.Auto, 1, MultiplierMapping.Dsp))
            .WithEngine(new EngineSettings(lanes, LutLanes: lutLanes, Weights: Enum.Parse<BufferResource>(weights)));
        var outputs = new OutputWriter();
        var design = HdlGenerator.Generate(model, plan, spec.Name, [], outputs);
        SynthesisScripts.Generate(design, "xc7s15ftgb196-1", 100, outputs);
        string root = folder.File("out");
        outputs.Commit(root, "hdl", "yosys");

        var modules = SynthesizedModules(yosys, root);
        Assert.IsTrue(modules.TryGetValue(design.EngineEntity, out var engine), $"no module {design.EngineEntity} in the statistics");
        TestContext.WriteLine(design.EngineEntity + ": " + string.Join(", ", engine.Select(c => c.Key + " " + c.Value)));
        var (bram, dsp) = ResourceModel.Counted(ResourceModel.Modules(design, f => outputs.Text("hdl/" + f)).Single(m => m.Kind == ModuleKind.Engine));
        Assert.AreEqual(lanes - lutLanes + 1 + 3, dsp, "the estimate's DSP48E1");
        if (weights == "Block") Assert.IsTrue(bram >= 1, "the weight ROM in block RAM");
        Assert.AreEqual(dsp, engine.GetValueOrDefault("DSP48E1"), "DSP48E1 in Yosys");
        Assert.AreEqual(bram, engine.GetValueOrDefault("RAMB18E1") + 2 * engine.GetValueOrDefault("RAMB36E1"), "RAMB18 in Yosys");
    }

    /// <summary>
    /// The bundled sample, built like a user's project in the Layers architecture (EngineEquivalenceTests runs its Engine
    /// design), passes its testbench on ≥ 8 windows in the latency model's cycles.
    /// </summary>
    [TestMethod]
    public void SeattleSampleIsBitExactInGhdl()
    {
        _ = Ghdl.Executable;
        string sample = Path.Combine(RepositoryRoot(), "samples", "SeattleTemperature");
        using var folder = new TestFolder();
        string project = Path.Combine(sample, "SeattleTemperature.csproj");
        var request = new BuildRequest(project, ["model/forecaster.json"], [], [], [],
            new BuildSettings { OutputDir = folder.File("out"), DefaultLanes = "4", BudgetAsWarning = true, Architecture = "Layers" });
        var outcome = FpgaBuild.Run(request);
        Assert.IsTrue(outcome.Success, string.Join("\n", outcome.Diagnostics.Select(d => d.Code + " " + d.Message)));
        string hdl = folder.File("out/hdl");
        var (code, output) = Ghdl.Run("/bin/sh", "run_ghdl.sh", hdl);
        Assert.AreEqual(0, code, Tail(output));
        string top = Path.GetFileNameWithoutExtension(File.ReadAllLines(Path.Combine(hdl, "sources.txt")).Last(l => l.Length > 0));
        var cycles = File.ReadAllLines(Path.Combine(hdl, "vectors", top + "_cycles.txt"));
        Assert.IsTrue(cycles.Length >= 8, "at least 8 test windows");
        Assert.AreEqual(1, cycles.Distinct().Count());
        var expected = File.ReadAllLines(Path.Combine(hdl, "vectors", top + "_expected.txt"));
        CollectionAssert.AreEqual(expected, File.ReadAllLines(Path.Combine(hdl, "vectors", top + "_out.txt")));
        TestContext.WriteLine($"{top}: {cycles.Length} windows, {cycles[0]} cycles each");
    }

    /// <summary>Runs the design's yosys/synth.ys in <paramref name="root"/>; the cell counts per module of its last statistics.</summary>
    private static Dictionary<string, Dictionary<string, long>> SynthesizedModules(string yosys, string root)
    {
        var (code, log) = Ghdl.Run(yosys, "-q -l yosys/synth.log -s yosys/synth.ys", root, timeoutSeconds: 300);
        Assert.AreEqual(0, code, "yosys failed:\n" + Tail(log));
        string synthLog = File.ReadAllText(Path.Combine(root, "yosys", "synth.log"));
        return Cells(synthLog[synthLog.LastIndexOf("Printing statistics.", StringComparison.Ordinal)..]);
    }

    /// <summary>Cell counts per module from Yosys' stat output.</summary>
    private static Dictionary<string, Dictionary<string, long>> Cells(string stat)
    {
        var modules = new Dictionary<string, Dictionary<string, long>>(StringComparer.Ordinal);
        Dictionary<string, long>? current = null;
        foreach (string line in stat.Split('\n'))
        {
            var header = Regex.Match(line, @"^=== (\S+) ===");
            if (header.Success)
            {
                string name = header.Groups[1].Value.TrimStart('\\');
                current = modules[name] = new Dictionary<string, long>(StringComparer.Ordinal);
                continue;
            }
            var cell = Regex.Match(line, @"^\s+(\S+)\s+(\d+)\s*$");
            if (current != null && cell.Success)
                current[cell.Groups[1].Value.TrimStart('\\')] = long.Parse(cell.Groups[2].Value, CultureInfo.InvariantCulture);
        }
        return modules;
    }

    private static string Tool(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            if (File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
        Assert.Fail($"{name} is not on PATH (Debian/Ubuntu: apt-get install {name})");
        return "";
    }

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, "samples", "SeattleTemperature"))) return dir.FullName;
        Assert.Fail("samples/SeattleTemperature not found above " + AppContext.BaseDirectory);
        return "";
    }

    private static string Tail(string text) => text.Length <= 4000 ? text : "…" + text[^4000..];
}
