using System.Globalization;
using TransformerFpga.Diagnostics;
using TransformerFpga.Integer;
using TransformerFpga.Model;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Hdl.Tests;

[TestClass]
public sealed class PipelineTests
{
    /// <summary>The Layers architecture: these tests are about per-layer lanes.</summary>
    private static BuildRequest Request(string projectFile, string model, string output, string lanes = "1", string? top = null,
        IReadOnlyList<LayerItem>? parallelism = null) =>
        new(projectFile, [Path.GetRelativePath(Path.GetDirectoryName(projectFile)!, model)], [], [], parallelism ?? [],
            new BuildSettings { OutputDir = output, DefaultLanes = lanes, TopName = top, BudgetAsWarning = true, Architecture = "Layers" });

    /// <summary>The build writes hdl/ whose testbench passes, with ≥ 8 windows, the cycles of the latency model and a sanitized top name.</summary>
    [TestMethod]
    public void BuildWritesPassingTestbench()
    {
        string ghdl = Ghdl.Executable;
        using var folder = new TestFolder();
        string model = SyntheticModel.Write(folder.File("model"), new SyntheticModelSpec(Window: 8, DModel: 8, Heads: 2, FfnDim: 16), seed: 5);
        string project = folder.File("hw.csproj");
        File.WriteAllText(project, "<Project />");
        var parallel = new LayerItem("encoder0.ffn.*", new Dictionary<string, string> { ["Lanes"] = "4" });
        var outcome = FpgaBuild.Run(Request(project, model, folder.File("out"), top: "My Forecaster!", parallelism: [parallel]));
        Assert.IsTrue(outcome.Success, string.Join("\n", outcome.Diagnostics.Select(d => d.Code + " " + d.Message)));
        string hdl = folder.File("out/hdl");
        var sources = File.ReadAllLines(Path.Combine(hdl, "sources.txt"));
        CollectionAssert.Contains(sources, "my_forecaster.vhd");
        foreach (string f in sources) Assert.IsTrue(File.Exists(Path.Combine(hdl, f)), f);
        var (code, output) = Ghdl.Run("/bin/sh", "run_ghdl.sh", hdl);
        Assert.AreEqual(0, code, output);
        var cycles = File.ReadAllLines(Path.Combine(hdl, "vectors", "my_forecaster_cycles.txt"));
        Assert.IsTrue(cycles.Length >= 8, "at least 8 test windows");
        Assert.AreEqual(1, cycles.Distinct().Count());
        _ = ghdl;

        // A wrong expected value makes the script fail.
        string expected = Path.Combine(hdl, "vectors", "my_forecaster_expected.txt");
        var lines = File.ReadAllLines(expected);
        lines[0] = (int.Parse(lines[0], CultureInfo.InvariantCulture) + 1).ToString(CultureInfo.InvariantCulture);
        File.WriteAllLines(expected, lines);
        var (failed, failedOutput) = Ghdl.Run("/bin/sh", "run_ghdl.sh", hdl);
        Assert.AreEqual(1, failed, failedOutput);
    }

    [TestMethod]
    public void LanesThatDoNotDivideTheOutputsAreRejected()
    {
        using var folder = new TestFolder();
        string model = SyntheticModel.Write(folder.File("model"), new SyntheticModelSpec(Window: 8, DModel: 8, FfnDim: 16), seed: 6);
        string project = folder.File("hw.csproj");
        File.WriteAllText(project, "<Project />");
        var parallel = new LayerItem("encoder0.ffn.fc1", new Dictionary<string, string> { ["Lanes"] = "3" });
        var outcome = FpgaBuild.Run(Request(project, model, folder.File("out"), parallelism: [parallel]));
        Assert.IsFalse(outcome.Success);
        var error = outcome.Diagnostics.Single();
        Assert.AreEqual(ErrorCodes.InvalidLanes, error.Code);
        StringAssert.Contains(error.Message, "encoder0.ffn.fc1");
        Assert.AreEqual(project, error.File);
        Assert.IsFalse(Directory.Exists(folder.File("out/hdl")));
    }

    /// <summary>Default lanes fall back to the largest divisor; explicit ones on scores/context must divide the head dimension.</summary>
    [TestMethod]
    public void DefaultLanesAreForgivingExplicitLanesStrict()
    {
        using var folder = new TestFolder();
        var config = ModelLoader.LoadConfig(SyntheticModel.Write(folder.File("model"), new SyntheticModelSpec(Window: 8, DModel: 12, Heads: 4, FfnDim: 24), seed: 8));
        var model = new ModelEvaluation(config, TransformerWeights.Load(config)).Quantize(_ => new LayerBits(8, 8));
        var names = IntegerTransformer.LayerNames(config);
        var plan = LayerPlan.From(names, _ => new LayerChoice(new LayerBits(8, 8), BufferResource.Auto, 4, MultiplierMapping.Auto));
        HardwareModel.ValidateLanes(model, plan, "hw.csproj");
        var layer = (string name) => model.Layers.Single(l => l.Name == name);
        Assert.AreEqual(3, HardwareModel.Lanes(layer("encoder0.attn.scores"), plan["encoder0.attn.scores"]));
        Assert.AreEqual(3, HardwareModel.Lanes(layer("encoder0.attn.context"), plan["encoder0.attn.context"]));
        Assert.AreEqual(4, HardwareModel.Lanes(layer("encoder0.ffn.fc1"), plan["encoder0.ffn.fc1"]));
        Assert.AreEqual(1, HardwareModel.Lanes(layer("head"), plan["head"]));
        var strict = LayerPlan.From(names, n => new LayerChoice(new LayerBits(8, 8), BufferResource.Auto, 4, MultiplierMapping.Auto, LanesExplicit: n == "encoder0.attn.scores"));
        var error = Assert.ThrowsExactly<FpgaException>(() => HardwareModel.ValidateLanes(model, strict, "hw.csproj"));
        Assert.AreEqual(ErrorCodes.InvalidLanes, error.Code);
        StringAssert.Contains(error.Message, "use one of 1, 3");
    }

    [TestMethod]
    public void GenerationIsDeterministic()
    {
        using var folder = new TestFolder();
        string model = SyntheticModel.Write(folder.File("model"), new SyntheticModelSpec(Window: 8, DModel: 8, FfnDim: 16, Norm: "layer"), seed: 7);
        string project = folder.File("hw.csproj");
        File.WriteAllText(project, "<Project />");
        Assert.IsTrue(FpgaBuild.Run(Request(project, model, folder.File("a"))).Success);
        Assert.IsTrue(FpgaBuild.Run(Request(project, model, folder.File("b"))).Success);
        var a = Directory.GetFiles(folder.File("a/hdl"), "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(folder.File("a"), f)).Order().ToList();
        var b = Directory.GetFiles(folder.File("b/hdl"), "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(folder.File("b"), f)).Order().ToList();
        CollectionAssert.AreEqual(a, b);
        foreach (string f in a)
        {
            string text = File.ReadAllText(Path.Combine(folder.File("a"), f));
            Assert.AreEqual(text, File.ReadAllText(Path.Combine(folder.File("b"), f)), f);
            Assert.IsFalse(text.Contains(folder.Path, StringComparison.Ordinal), f + " contains an absolute path");
        }
    }
}
