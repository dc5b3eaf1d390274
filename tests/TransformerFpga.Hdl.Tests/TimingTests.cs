using System.Globalization;
using TransformerFpga.Hardware;
using TransformerFpga.Integer;
using TransformerFpga.Model;
using TransformerFpga.Pipeline;
using TransformerFpga.Reports;
using TransformerFpga.TestSupport;

namespace TransformerFpga.Hdl.Tests;

/// <summary>
/// The timing model held against static timing of the Yosys netlist (synth_xilinx -flatten, the same
/// delay figures) on the bundled sample. Random designs with every layer kind (batch and layer norm, lanes,
/// LUT and DSP multipliers, block and distributed buffers) get the same check in ResourceEstimateTests, on the
/// netlists it synthesizes anyway.
/// </summary>
[TestClass]
public sealed class TimingTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>The clock period the templates are built for (100 MHz) less 1 ns of margin for placement.</summary>
    private const double WorstPathBoundNs = 9.0;

    /// <summary>
    /// Model vs netlist on the design's worst path: the model rebuilds the same cells with the same
    /// figures, so what remains is the structure it cannot see (how Yosys splits an adder into CARRY4s,
    /// a LUT level merged or added); see "Timing" in docs/hardware.md for the measured spread.
    /// </summary>
    private const double DesignToleranceNs = 1.5;

    private sealed record Case(string Name, HdlGenerator.Design Design, string Folder);


    [TestMethod]
    [Timeout(30 * 60 * 1000)]
    public void ModelAgreesWithNetlistTimingAndTheWorstPathMeetsTheClock()
    {
        Assert.IsTrue((Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(d => File.Exists(Path.Combine(d, "yosys"))),
            "yosys is not on PATH (Debian/Ubuntu: apt-get install yosys ghdl)");
        _ = Ghdl.Executable;
        using var folder = new TestFolder();
        var cases = new[]
        {
            Sample(folder),
        };
        var rows = new List<string> { "| design | layer | model ns | netlist ns | error |", "|---|---|---:|---:|---:|" };
        var failures = new List<string>();
        var slow = new List<string>();
        foreach (var c in cases)
        {
            var (code, netlist) = NetlistTiming.Synthesize(c.Folder, TimeSpan.FromMinutes(15));
            Assert.AreEqual(0, code, $"{c.Name}: yosys failed, see flat/yosys.log");
            var sta = NetlistTiming.Analyze(netlist, c.Design.Top);
            var comparison = TimingComparison.Rows(c.Design, sta);
            rows.Add(TimingComparison.Table(c.Name, comparison).TrimEnd('\n'));
            var model = DesignTiming.Of(c.Design);
            TestContext.WriteLine($"{c.Name}: model {model.Critical.Nanoseconds:0.00} ns ({model.Critical.Name}: {model.Critical.Description}); netlist {sta.Worst}");
            double error = model.Critical.Nanoseconds - sta.Worst.Nanoseconds;
            if (Math.Abs(error) > DesignToleranceNs)
                failures.Add(string.Create(CultureInfo.InvariantCulture, $"{c.Name}: model {model.Critical.Nanoseconds:0.00} ns vs netlist {sta.Worst.Nanoseconds:0.00} ns"));
            if (sta.Worst.Nanoseconds > WorstPathBoundNs) slow.Add(c.Name + ": " + sta.Worst);
        }
        TestContext.WriteLine(string.Join("\n", rows));
        Assert.AreEqual(0, failures.Count, "timing model off the netlist:\n" + string.Join("\n", failures) + "\n" + string.Join("\n", rows));
        // The templates are pipelined so that every register-to-register path fits 100 MHz with 1 ns to spare.
        Assert.AreEqual(0, slow.Count, $"worst register-to-register path above {WorstPathBoundNs} ns:\n" + string.Join("\n", slow));
    }

    /// <summary>
    /// The bundled sample, 8 bit with 4 lanes in the MAC layers, block buffers and LUT multipliers in the
    /// FFN (where the Auto rule puts them once the DSPs run out).
    /// </summary>
    private static Case Sample(TestFolder folder)
    {
        string json = Path.Combine(RepositoryRoot(), "samples", "SeattleTemperature", "model", "forecaster.json");
        var config = ModelLoader.LoadConfig(json);
        var evaluation = new ModelEvaluation(config, TransformerWeights.Load(config));
        var model = evaluation.Quantize(_ => new LayerBits(8, 8));
        var names = IntegerTransformer.LayerNames(config);
        var plan = LayerPlan.From(names, n => new LayerChoice(new LayerBits(8, 8), BufferResource.Block, n.StartsWith("encoder0.", StringComparison.Ordinal) ? 4 : 1,
            n.StartsWith("encoder0.ffn.", StringComparison.Ordinal) ? MultiplierMapping.Lut : MultiplierMapping.Dsp));
        return Write(folder, "sample", model, plan);
    }

    private static Case Write(TestFolder folder, string name, IntegerTransformer model, LayerPlan plan)
    {
        var outputs = new OutputWriter();
        var design = HdlGenerator.Generate(model, plan, name, [], outputs);
        SynthesisScripts.Generate(design, "xc7s15ftgb196-1", 100, outputs);
        string root = folder.File(name);
        outputs.Commit(root, "hdl", "yosys");
        return new Case(name, design, root);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, "samples", "SeattleTemperature"))) return dir.FullName;
        Assert.Fail("samples/SeattleTemperature not found above " + AppContext.BaseDirectory);
        return "";
    }
}
