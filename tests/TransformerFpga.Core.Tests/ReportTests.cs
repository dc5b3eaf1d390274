using System.Globalization;
using TransformerFpga.Data;
using TransformerFpga.Diagnostics;
using TransformerFpga.Hardware;
using TransformerFpga.Model;
using TransformerFpga.Pipeline;
using TransformerFpga.Reports;

namespace TransformerFpga.Tests;

/// <summary>Reports that say no more than the estimate and the data support.</summary>
[TestClass]
public sealed class ReportTests
{
    private static DesignEstimate Design(Resources used, double limit = 100) =>
        new("top", "xc7s15ftgb196-1", Device.FromPart("xc7s15ftgb196-1", null), 100, limit,
            [new LayerEstimate("head", 8, 8, 1, "Block", used, 10, "DSP")], 10,
            new DesignTiming([new LayerTiming("head", TimingPath.FromRegister())]));

    /// <summary>LUT 7,804 of 8,000 is within the held-out worst LUT error (5.9 %); DSP 20/20 is exact.</summary>
    [TestMethod]
    public void DesignWithinTheEstimatesErrorOfTheLimitIsWarned()
    {
        var design = Design(new Resources(7804, 100, 2192, 16, 20));
        Assert.IsTrue(design.Fits);
        var warning = BudgetGate.EdgeWarnings(design, ResourceCoefficients.Default, "hw.csproj").Single();
        Assert.AreEqual(Severity.Warning, warning.Severity);
        Assert.AreEqual(BudgetGate.EdgeCode, warning.Code);
        Assert.AreEqual("LUT 7,804/8,000 (xc7s15ftgb196-1): within the estimate's worst error (5.9 %) of the limit; calibrate against Vivado (FpgaCalibrationReport) or leave headroom",
            warning.Message);

        // 7,000 × 1.059 < 8,000: clear of the error band.
        Assert.AreEqual(0, BudgetGate.EdgeWarnings(Design(new Resources(7000, 100, 2192, 16, 20)), ResourceCoefficients.Default, "hw.csproj").Count);
        // Under a utilization limit the band is measured against the limit.
        var limited = BudgetGate.EdgeWarnings(Design(new Resources(7000, 100, 2192, 10, 10), limit: 90), ResourceCoefficients.Default, "hw.csproj");
        Assert.AreEqual("LUT 7,000/7,200 (90 % of xc7s15ftgb196-1)", limited.Single().Message[..limited.Single().Message.IndexOf(':', StringComparison.Ordinal)]);
        // LUT RAM has its own held-out error (16.8 %): 2,300 × 1.168 > 2,400, 2,000 × 1.168 < 2,400.
        StringAssert.StartsWith(BudgetGate.EdgeWarnings(Design(new Resources(100, 2300, 100, 0, 0)), ResourceCoefficients.Default, "hw.csproj").Single().Message, "LUTRAM 2,300/2,400");
        Assert.AreEqual(0, BudgetGate.EdgeWarnings(Design(new Resources(100, 2000, 100, 0, 0)), ResourceCoefficients.Default, "hw.csproj").Count);
    }

    [TestMethod]
    public void CalibratedCoefficientsUseTheCalibratedError()
    {
        var design = Design(new Resources(7804, 100, 2192, 16, 20));
        var tight = new ResourceCoefficients { ErrorPercent = new Dictionary<string, double> { ["LUT"] = 1.5 } };
        Assert.AreEqual(0, BudgetGate.EdgeWarnings(design, tight, "hw.csproj").Count, "7,804 × 1.015 < 8,000");
        var loose = new ResourceCoefficients { ErrorPercent = new Dictionary<string, double> { ["LUT"] = 3.2 } };
        StringAssert.Contains(BudgetGate.EdgeWarnings(design, loose, "hw.csproj").Single().Message, "within the estimate's worst error (3.2 %) of the limit");

        var errors = EstimateError.FromCalibration([new CalibrationError("LUT", 2.04, -0.5), new CalibrationError("FF", 0.3, 1.26), new CalibrationError("DSP", 3, 1)]);
        Assert.AreEqual(2.0, errors["LUT"]);
        Assert.AreEqual(1.3, errors["FF"]);
        Assert.IsFalse(errors.ContainsKey("DSP"), "DSP keeps its counting rule and the held-out figure");
        // Written with the coefficients, read back by the next build.
        var written = new ResourceCoefficients { ErrorPercent = errors };
        Assert.AreEqual(2.0, EstimateError.WorstPercent(ResourceCoefficients.FromJson(written.ToJson()), "LUT"));
        Assert.AreEqual(0, EstimateError.WorstPercent(ResourceCoefficients.FromJson(written.ToJson()), "DSP"));
    }

    [TestMethod]
    public void SummarySaysFitsThePartWithItsCautionsAndNoHundredPercentOfIt()
    {
        var design = Design(new Resources(7804, 100, 2192, 16, 20));
        var cautions = BudgetGate.EdgeWarnings(design, ResourceCoefficients.Default, "hw.csproj").Select(d => d.Message).ToList();
        string md = ResourceSummary.Markdown(design, "Test MSE: …", null, cautions);
        StringAssert.Contains(md, "Fits the part, by the estimate:\n- LUT 7,804/8,000 (xc7s15ftgb196-1): within the estimate's worst error (5.9 %)");
        Assert.IsFalse(md.Contains("100 % of", StringComparison.Ordinal), md);
        StringAssert.Contains(ResourceSummary.Markdown(Design(new Resources(100, 0, 100, 0, 0), limit: 80), "x"), "Fits the budget (80 % of the part).");
    }

    [TestMethod]
    public void EveryLayerHasItsOwnColour()
    {
        var colours = Enumerable.Range(0, 64).Select(ResourceSummary.LayerColour).ToList();
        Assert.AreEqual(colours.Count, colours.Distinct().Count(), string.Join(" ", colours));
    }

    /// <summary>The persistence forecast (next value = last input value) computed here from the CSV matches the reports.</summary>
    [TestMethod]
    public void ReportsGiveThePersistenceForecastsError()
    {
        using var folder = new TestFolder();
        var spec = new SyntheticModelSpec(Window: 6, InputFeatures: 2);
        SyntheticModel.Write(folder.File("model"), spec, seed: 4);
        string project = folder.File("Hardware.csproj");
        File.WriteAllText(project, "<Project />");
        var outcome = FpgaBuild.Run(new BuildRequest(project, ["model/synthetic.json"], [], [], [], new BuildSettings { OutputDir = folder.File("out"), BudgetAsWarning = true }));
        Assert.IsTrue(outcome.Success, string.Join("\n", outcome.Diagnostics));

        var config = ModelLoader.LoadConfig(folder.File("model/synthetic.json"));
        var series = CsvSeries.Load(config.Data.TestPath, config.Data.InputColumns, config.Data.TargetColumns);
        int target = Array.IndexOf(config.Data.InputColumns, config.Data.TargetColumns[0]);
        Assert.IsTrue(target >= 0, "the synthetic target is an input column");
        double squares = 0;
        int windows = series.Rows - spec.Window;
        for (int w = 0; w < windows; w++)
        {
            double e = series.Inputs[w + spec.Window - 1][target] - series.Targets[w + spec.Window][0];
            squares += e * e;
        }
        double mse = squares / windows;

        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(folder.File("out/report/simulation.json")));
        Assert.AreEqual(mse, json.RootElement.GetProperty("persistence_vs_target").GetProperty("mse").GetDouble(), 1e-12 * Math.Max(1, mse));
        StringAssert.Contains(File.ReadAllText(folder.File("out/report/summary.md")),
            ", persistence forecast (the last input value) " + mse.ToString("G4", CultureInfo.InvariantCulture) + " (");
    }
}
