using TransformerFpga.Model;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Hdl.Tests;

/// <summary>
/// vivado/build.tcl runs under plain tclsh with every Vivado command defined as a recording stub:
/// the calls, their order and their arguments are what a non-project flow needs.
/// </summary>
[TestClass]
public sealed class VivadoScriptTests
{
    private static readonly string[] VivadoCommands =
        ["read_vhdl", "read_xdc", "synth_design", "opt_design", "place_design", "route_design", "report_utilization", "report_timing_summary", "report_power", "write_bitstream"];

    [TestMethod]
    public void BuildScriptCallsTheNonProjectFlowInOrder()
    {
        string tclsh = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, "tclsh")).FirstOrDefault(File.Exists) ?? "";
        Assert.IsTrue(tclsh.Length > 0, "tclsh is not on PATH (Debian/Ubuntu: apt-get install tcl)");
        using var folder = new TestFolder();
        string model = SyntheticModel.Write(folder.File("model"), new SyntheticModelSpec(), seed: 3);
        string project = folder.File("hw.csproj");
        File.WriteAllText(project, "<Project />");
        string output = folder.File("out");
        var outcome = FpgaBuild.Run(new BuildRequest(project, [Path.GetRelativePath(folder.Path, model)], [], [], [],
            new BuildSettings { OutputDir = output, Part = "xc7s25csga324-1", ClockMHz = "125", BudgetAsWarning = true }));
        Assert.IsTrue(outcome.Success, string.Join("\n", outcome.Diagnostics));

        string stubs = string.Join("\n", VivadoCommands.Select(c => $"proc {c} {{args}} {{ puts \"CALL {c} $args\" }}"));
        File.WriteAllText(folder.File("stubs.tcl"), stubs + "\nsource [lindex $argv 0]\n");
        var (code, log) = Ghdl.Run(tclsh, $"{folder.File("stubs.tcl")} vivado/build.tcl", output);
        Assert.AreEqual(0, code, log);
        var calls = log.Split('\n').Where(l => l.StartsWith("CALL ", StringComparison.Ordinal)).Select(l => l[5..].Trim()).ToList();

        var sources = File.ReadAllLines(Path.Combine(output, "hdl", "sources.txt")).Where(l => l.Length > 0).ToList();
        var reads = calls.TakeWhile(c => c.StartsWith("read_vhdl", StringComparison.Ordinal)).ToList();
        Assert.AreEqual(sources.Count, reads.Count, "one read_vhdl per source, in compile order:\n" + log);
        for (int i = 0; i < sources.Count; i++)
        {
            StringAssert.StartsWith(reads[i], "read_vhdl -vhdl2008 ");
            StringAssert.EndsWith(reads[i], "/hdl/" + sources[i]);
        }
        var rest = calls.Skip(reads.Count).Select(c => c.Split(' ')[0]).ToList();
        CollectionAssert.AreEqual(new[] { "read_xdc", "synth_design", "opt_design", "place_design", "route_design",
            "report_utilization", "report_utilization", "report_timing_summary", "report_power", "write_bitstream" }, rest, string.Join("\n", calls));
        string synth = calls.Single(c => c.StartsWith("synth_design", StringComparison.Ordinal));
        StringAssert.Contains(synth, "-top synthetic");
        StringAssert.Contains(synth, "-part xc7s25csga324-1");
        Assert.IsTrue(calls.Any(c => c.StartsWith("report_utilization -hierarchical", StringComparison.Ordinal)), string.Join("\n", calls));
        Assert.IsTrue(calls.Any(c => c.StartsWith("report_power -hierarchical_depth 2 -file ", StringComparison.Ordinal) && c.EndsWith("/vivado-out/power.rpt", StringComparison.Ordinal)), string.Join("\n", calls));
        StringAssert.Contains(File.ReadAllText(Path.Combine(output, "vivado", "constraints.xdc")), "create_clock -period 8 ");
    }
}
