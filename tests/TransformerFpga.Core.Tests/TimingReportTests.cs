using System.Globalization;
using System.Text.Json;
using TransformerFpga.Diagnostics;
using TransformerFpga.Model;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Tests;

/// <summary>
/// The estimated Fmax in the build's reports and its gate: resources.json carries fmax_mhz per layer and
/// in total with the critical layer, summary.md a column and a line, the latency is given at the clock
/// that is met, and FpgaClockMHz above Fmax is TFPGA106 (a warning with FpgaBudgetAsWarning).
/// </summary>
[TestClass]
public sealed class TimingReportTests
{
    private static BuildRequest Request(TestFolder folder, string clockMHz, bool asWarning)
    {
        SyntheticModel.Write(folder.File("model"), new SyntheticModelSpec(), seed: 2);
        string project = folder.File("Hardware.csproj");
        File.WriteAllText(project, "<Project />");
        return new BuildRequest(project, ["model/synthetic.json"], [], [], [],
            new BuildSettings { OutputDir = folder.File("out"), ClockMHz = clockMHz, BudgetAsWarning = asWarning });
    }

    private static (double Fmax, string Critical, JsonElement Layers) Report(TestFolder folder)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(folder.File("out/report/resources.json")));
        var root = json.RootElement;
        return (root.GetProperty("fmax_mhz").GetDouble(), root.GetProperty("critical_layer").GetString()!, root.GetProperty("layers").Clone());
    }

    [TestMethod]
    public void ResourcesJsonAndSummaryCarryFmaxPerLayerAndTheCriticalLayer()
    {
        using var folder = new TestFolder();
        var outcome = FpgaBuild.Run(Request(folder, "10", asWarning: false));
        Assert.IsTrue(outcome.Success, string.Join("\n", outcome.Diagnostics));
        var (fmax, critical, layers) = Report(folder);
        var perLayer = layers.EnumerateArray().Where(l => l.TryGetProperty("fmax_mhz", out _))
            .ToDictionary(l => l.GetProperty("name").GetString()!, l => l.GetProperty("fmax_mhz").GetDouble());
        // rows with logic of their own: the layers with a datapath of their own (the default Engine runs the linear,
        // attention, element-wise and pooling layers of a batch-norm model), the engine and the control
        foreach (var name in new[] { "encoder0.attn.softmax", "engine", "control" })
            Assert.IsTrue(perLayer.ContainsKey(name), $"{name} has fmax_mhz");
        foreach (var l in layers.EnumerateArray().Where(l => l.GetProperty("buffer_resource").GetString() == "Fused"))
            Assert.IsFalse(l.TryGetProperty("fmax_mhz", out _), "a fused layer has no logic of its own");
        Assert.IsFalse(perLayer.ContainsKey("input"), "the input buffer has no logic of its own");
        Assert.AreEqual(perLayer.Values.Min(), fmax, 1e-9, "the design's Fmax is its slowest layer's");
        Assert.AreEqual(fmax, perLayer[critical], 1e-9, "critical_layer names the slowest layer");
        Assert.IsTrue(fmax is > 10 and < 500, $"fmax_mhz {fmax}");

        string summary = File.ReadAllText(folder.File("out/report/summary.md"));
        StringAssert.Contains(summary, "| cycles | Fmax MHz |");
        StringAssert.Contains(summary, $"critical layer {critical} (");
        StringAssert.Contains(outcome.Summary!, string.Create(CultureInfo.InvariantCulture, $"Fmax {fmax:0.#} MHz (critical: {critical}"));
    }

    [TestMethod]
    public void ClockAboveFmaxIsAnErrorNamingTheCriticalLayerAndTheClockToUse()
    {
        using var folder = new TestFolder();
        var outcome = FpgaBuild.Run(Request(folder, "1000", asWarning: false));
        Assert.IsFalse(outcome.Success);
        var error = outcome.Diagnostics.Single(d => d.Code == ErrorCodes.ClockAboveFmax);
        Assert.AreEqual(Severity.Error, error.Severity);
        var (fmax, critical, _) = Report(folder);
        StringAssert.Contains(error.Message, "FpgaClockMHz 1000 is above the estimated Fmax");
        StringAssert.Contains(error.Message, $"critical layer {critical}: ");
        StringAssert.Contains(error.Message, " ns (");
        var suggested = double.Parse(error.Message[(error.Message.LastIndexOf("lower FpgaClockMHz to ", StringComparison.Ordinal) + 22)..], CultureInfo.InvariantCulture);
        Assert.IsTrue(suggested <= fmax && suggested > fmax - 0.2, $"suggested {suggested} MHz for Fmax {fmax}");

        // The suggested clock passes the gate.
        using var again = new TestFolder();
        var fixedOutcome = FpgaBuild.Run(Request(again, suggested.ToString(CultureInfo.InvariantCulture), asWarning: false));
        Assert.IsFalse(fixedOutcome.Diagnostics.Any(d => d.Code == ErrorCodes.ClockAboveFmax), string.Join("\n", fixedOutcome.Diagnostics));
    }

    [TestMethod]
    public void ClockAboveFmaxIsAWarningWithBudgetAsWarningAndTheLatencyIsAtTheMetClock()
    {
        using var folder = new TestFolder();
        var outcome = FpgaBuild.Run(Request(folder, "1000", asWarning: true));
        Assert.IsTrue(outcome.Success, string.Join("\n", outcome.Diagnostics));
        Assert.AreEqual(Severity.Warning, outcome.Diagnostics.Single(d => d.Code == ErrorCodes.ClockAboveFmax).Severity);
        var (fmax, _, _) = Report(folder);
        using var json = JsonDocument.Parse(File.ReadAllText(folder.File("out/report/resources.json")));
        long cycles = json.RootElement.GetProperty("latency_cycles").GetInt64();
        double us = json.RootElement.GetProperty("latency_us").GetDouble();
        Assert.AreEqual(cycles / fmax, us, cycles / fmax * 0.002, "latency_us at Fmax, not at the requested 1000 MHz");
        // The line prints the latency at the unrounded Fmax, resources.json the Fmax to 0.1 MHz: compare numbers, not digits.
        var line = System.Text.RegularExpressions.Regex.Match(outcome.Summary!, string.Create(CultureInfo.InvariantCulture, $@"{cycles:N0} cycles = ([0-9.]+) µs @ ([0-9.]+) MHz"));
        Assert.IsTrue(line.Success, outcome.Summary);
        Assert.AreEqual(cycles / fmax, double.Parse(line.Groups[1].Value, CultureInfo.InvariantCulture), 0.06, "the line's latency is at Fmax");
        Assert.AreEqual(fmax, double.Parse(line.Groups[2].Value, CultureInfo.InvariantCulture), 0.06, "the line's clock is Fmax");

        using var slow = new TestFolder();
        var met = FpgaBuild.Run(Request(slow, "10", asWarning: true));
        Assert.IsFalse(met.Diagnostics.Any(d => d.Code == ErrorCodes.ClockAboveFmax));
        StringAssert.Contains(met.Summary!, string.Create(CultureInfo.InvariantCulture, $"{cycles:N0} cycles = {cycles / 10.0:0.#} µs @ 10 MHz"));
    }
}
