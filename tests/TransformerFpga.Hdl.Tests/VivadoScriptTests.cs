using TransformerFpga.Diagnostics;
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
        ["read_vhdl", "read_xdc", "synth_design", "opt_design", "place_design", "route_design", "write_checkpoint", "report_utilization",
         "report_timing_summary", "report_power", "report_drc", "write_bitstream"];

    private static readonly string[] ImplementationSteps =
    [
        "synth_design", "write_checkpoint", "opt_design", "write_checkpoint", "place_design", "write_checkpoint", "route_design", "write_checkpoint",
        "report_utilization", "report_utilization", "report_timing_summary", "report_power", "report_drc",
    ];

    /// <summary>Builds a synthetic design (part xc7s25, 125 MHz) with the given board constraints into <paramref name="output"/>.</summary>
    private static BuildOutcome Build(TestFolder folder, string output, IReadOnlyList<string> constraints)
    {
        string model = SyntheticModel.Write(folder.File("model"), new SyntheticModelSpec(), seed: 3);
        string project = folder.File("hw.csproj");
        File.WriteAllText(project, "<Project />");
        return FpgaBuild.Run(new BuildRequest(project, [Path.GetRelativePath(folder.Path, model)], [], [], [],
            new BuildSettings { OutputDir = output, Part = "xc7s25csga324-1", ClockMHz = "125", BudgetAsWarning = true, BoardConstraints = constraints }));
    }

    /// <summary>Runs build.tcl with stubs; the routed design's worst setup and hold slack are the given values ("" = no path).</summary>
    private static (int Code, string Log, List<string> Calls) RunFlow(TestFolder folder, string output, string setupSlack, string holdSlack)
    {
        string tclsh = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, "tclsh")).FirstOrDefault(File.Exists) ?? "";
        Assert.IsTrue(tclsh.Length > 0, "tclsh is not on PATH (Debian/Ubuntu: apt-get install tcl)");
        string stubs = string.Join("\n", VivadoCommands.Select(c => $"proc {c} {{args}} {{ puts \"CALL {c} [join $args {{ }}]\" }}")) + $$"""

            proc get_timing_paths {args} {
                if {[lsearch $args -hold] >= 0} { set slack {{{holdSlack}}} } else { set slack {{{setupSlack}}} }
                if {$slack eq ""} { return {} }
                return [list [list path $slack]]
            }
            proc get_property {name object} { return [lindex $object 1] }
            source [lindex $argv 0]

            """;
        File.WriteAllText(folder.File("stubs.tcl"), stubs);
        var (code, log) = Ghdl.Run(tclsh, $"{folder.File("stubs.tcl")} vivado/build.tcl", output);
        var calls = log.Split('\n').Where(l => l.StartsWith("CALL ", StringComparison.Ordinal)).Select(l => l[5..].Trim()).ToList();
        return (code, log, calls);
    }

    private static List<string> Commands(IEnumerable<string> calls) => calls.Select(c => c.Split(' ')[0]).ToList();

    /// <summary>Without FpgaConstraints: out-of-context synthesis, a checkpoint after each step, every report, no bitstream.</summary>
    [TestMethod]
    public void WithoutBoardConstraintsTheFlowRunsOutOfContext()
    {
        using var folder = new TestFolder();
        string output = folder.File("out");
        var outcome = Build(folder, output, []);
        Assert.IsTrue(outcome.Success, string.Join("\n", outcome.Diagnostics));
        var (code, log, calls) = RunFlow(folder, output, "0.412", "0.051");
        Assert.AreEqual(0, code, log);

        var sources = File.ReadAllLines(Path.Combine(output, "hdl", "sources.txt")).Where(l => l.Length > 0).ToList();
        var reads = calls.TakeWhile(c => c.StartsWith("read_vhdl", StringComparison.Ordinal)).ToList();
        Assert.AreEqual(sources.Count, reads.Count, "one read_vhdl per source, in compile order:\n" + log);
        for (int i = 0; i < sources.Count; i++)
        {
            StringAssert.StartsWith(reads[i], "read_vhdl -vhdl2008 ");
            StringAssert.EndsWith(reads[i], "/hdl/" + sources[i]);
        }
        var rest = calls.Skip(reads.Count).ToList();
        CollectionAssert.AreEqual(new[] { "read_xdc" }.Concat(ImplementationSteps).ToArray(), Commands(rest), string.Join("\n", calls));
        StringAssert.EndsWith(rest[0], "/vivado/constraints.xdc");
        string synth = rest.Single(c => c.StartsWith("synth_design", StringComparison.Ordinal));
        StringAssert.Contains(synth, "-top synthetic");
        StringAssert.Contains(synth, "-part xc7s25csga324-1");
        StringAssert.Contains(synth, "-mode out_of_context");
        var checkpoints = rest.Where(c => c.StartsWith("write_checkpoint", StringComparison.Ordinal)).Select(c => Path.GetFileName(c.Split(' ')[^1])).ToList();
        CollectionAssert.AreEqual(new[] { "post_synth.dcp", "post_opt.dcp", "post_place.dcp", "post_route.dcp" }, checkpoints);
        Assert.IsTrue(calls.Any(c => c.StartsWith("report_utilization -hierarchical", StringComparison.Ordinal)), string.Join("\n", calls));
        Assert.IsTrue(calls.Any(c => c.StartsWith("report_power -hierarchical_depth 2 -file ", StringComparison.Ordinal) && c.EndsWith("/vivado-out/power.rpt", StringComparison.Ordinal)), string.Join("\n", calls));
        StringAssert.Contains(log, "WNS 0.412 ns");
        StringAssert.Contains(log, "WHS 0.051 ns");
        StringAssert.Contains(File.ReadAllText(Path.Combine(output, "vivado", "constraints.xdc")), "create_clock -period 8 ");
    }

    /// <summary>With FpgaConstraints: the user's XDC is read by its exact path (whatever characters it has), no out-of-context mode, bitstream last.</summary>
    [TestMethod]
    public void BoardConstraintsGiveTheFullFlowWithBitstream()
    {
        using var folder = new TestFolder();
        string board = folder.File("board $x [pins] \"a\" {b} \\c;d.xdc");
        File.WriteAllText(board, "set_property PACKAGE_PIN M9 [get_ports clk]\n");
        string output = folder.File("out");
        var outcome = Build(folder, output, [Path.GetFileName(board)]);
        Assert.IsTrue(outcome.Success, string.Join("\n", outcome.Diagnostics));
        var (code, log, calls) = RunFlow(folder, output, "0.2", "0.03");
        Assert.AreEqual(0, code, log);

        var xdcReads = calls.Where(c => c.StartsWith("read_xdc ", StringComparison.Ordinal)).Select(c => c["read_xdc ".Length..]).ToList();
        Assert.AreEqual(2, xdcReads.Count, log);
        StringAssert.EndsWith(xdcReads[0], "/vivado/constraints.xdc");
        Assert.AreEqual(board, xdcReads[1], log);
        var rest = Commands(calls.SkipWhile(c => !c.StartsWith("synth_design", StringComparison.Ordinal)));
        CollectionAssert.AreEqual(ImplementationSteps.Append("write_bitstream").ToArray(), rest, log);
        Assert.IsFalse(calls.Single(c => c.StartsWith("synth_design", StringComparison.Ordinal)).Contains("out_of_context", StringComparison.Ordinal));
        StringAssert.EndsWith(calls[^1], "/vivado-out/synthetic.bit");
    }

    /// <summary>Negative setup or hold slack, or no timed path at all, ends the flow with exit status 1 before any bitstream.</summary>
    [TestMethod]
    public void NegativeSlackFailsTheFlow()
    {
        using var folder = new TestFolder();
        File.WriteAllText(folder.File("board.xdc"), "# pins\n");
        string output = folder.File("out");
        Assert.IsTrue(Build(folder, output, ["board.xdc"]).Success);
        foreach (var (setup, hold, message) in new[] { ("-0.137", "0.05", "WNS -0.137"), ("0.3", "-0.01", "WHS -0.01"), ("", "0.05", "no timed path for WNS") })
        {
            var (code, log, calls) = RunFlow(folder, output, setup, hold);
            Assert.AreEqual(1, code, log);
            StringAssert.Contains(log, message);
            Assert.IsFalse(calls.Any(c => c.StartsWith("write_bitstream", StringComparison.Ordinal)), log);
            Assert.IsTrue(calls.Any(c => c.StartsWith("report_timing_summary", StringComparison.Ordinal)), "the reports are written before the check");
        }
    }

    [TestMethod]
    public void MissingBoardConstraintsFileIsAnError()
    {
        using var folder = new TestFolder();
        var outcome = Build(folder, folder.File("out"), ["board/missing.xdc"]);
        Assert.IsFalse(outcome.Success);
        var error = outcome.Diagnostics.Single();
        Assert.AreEqual(ErrorCodes.ConstraintsFileMissing, error.Code);
        StringAssert.Contains(error.Message, "board/missing.xdc");
    }
}
