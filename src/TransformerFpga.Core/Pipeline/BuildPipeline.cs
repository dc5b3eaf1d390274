using System.Globalization;
using TransformerFpga.Diagnostics;
using TransformerFpga.Hardware;
using TransformerFpga.Hdl;
using TransformerFpga.Integer;
using TransformerFpga.Model;
using TransformerFpga.Reports;

namespace TransformerFpga.Pipeline;

/// <summary>The steps of one build, in order; every user-fixable problem is thrown as an <see cref="FpgaException"/>.</summary>
internal static class BuildPipeline
{
    public static string Execute(BuildRequest request, List<FpgaDiagnostic> diagnostics, Action<string> progress, CancellationToken cancellation)
    {
        string projectFile = request.ProjectFile;
        var settings = request.Settings;
        var (config, weights, device, _, clock, limit, plan, topName) = ProjectInputs.Resolve(request);
        cancellation.ThrowIfCancellationRequested();

        progress("calibrating and quantizing " + config.Name);
        var evaluation = new ModelEvaluation(config, weights, cancellation);
        var model = evaluation.Quantize(plan.Bits);
        plan.ValidateLanes(model, projectFile);
        progress("simulating " + evaluation.Test.Count.ToString(CultureInfo.InvariantCulture) + " test windows");
        var result = evaluation.Evaluate(model);
        cancellation.ThrowIfCancellationRequested();

        var outputs = new OutputWriter();
        outputs.Add("report/simulation.json", SimulationReport.Json(model, result));
        outputs.Add("report/predictions.csv", SimulationReport.PredictionsCsv(result));

        // A calibration file beside the project replaces the shipped coefficients; a report given now refits them below.
        var projectCoefficients = CurrentCoefficients(request);
        var estimator = new PlanEstimator(evaluation, topName, device, settings.Part, clock, limit, projectCoefficients);
        estimator.Add(plan, model);
        var auto = AutoMapping.Resolve(plan, estimator.Estimate);
        if (auto.Switches.Count > 0)
            progress("Auto layers moved to fit the budget: " + string.Join(", ", auto.Switches));
        plan = auto.Plan;

        progress("generating VHDL");
        var design = HdlGenerator.Generate(model, plan, topName, TestVectors.Select(model, evaluation.Test.Inputs, result.QuantizedOutputs), outputs);
        SynthesisScripts.Generate(design, settings.Part, clock, outputs);

        progress("estimating resources");
        var calibration = Calibrate(request, design, outputs, projectCoefficients, progress);
        var coefficients = projectCoefficients;
        if (calibration is not null)
        {
            coefficients = Calibration.WithFallback(calibration.Coefficients, ResourceCoefficients.Default);
            estimator = new PlanEstimator(evaluation, topName, device, settings.Part, clock, limit, coefficients);
        }
        var estimate = estimator.Estimate(model, plan, design, file => outputs.Text("hdl/" + file));
        var budget = BudgetGate.Check(estimate, plan, estimator.Estimate, settings.BudgetAsWarning, projectFile, cancellation);
        diagnostics.AddRange(budget);
        diagnostics.AddRange(BudgetGate.CheckClock(estimate, settings.BudgetAsWarning, projectFile));
        outputs.Add("report/resources.json", estimate.Json());
        var accuracy = result.FloatVsTarget;
        string? coefficientsNote = calibration is not null ? calibration.Markdown()
            : coefficients != ResourceCoefficients.Default ? $"Resource coefficients from `{Calibration.FileName}`: {coefficients.Source}.\n" : null;
        outputs.Add("report/summary.md", ResourceSummary.Markdown(estimate, string.Create(CultureInfo.InvariantCulture,
            $"Test MSE: float {accuracy.Mse:G4}, integer {result.IntegerVsTarget.Mse:G4}, integer vs float {result.IntegerVsFloat.Mse:G4} ({result.Targets.Length} windows)."), coefficientsNote));
        outputs.Add("report/resources.svg", ResourceSummary.Svg(estimate));
        // report/ always describes this attempt; the hardware folders only change when the design fits the budget.
        outputs.Commit(settings.OutputDir, "report");
        if (budget.All(d => d.Severity != Severity.Error))
            outputs.Commit(settings.OutputDir, "hdl", "yosys", "vivado");

        var f = result.FloatVsTarget;
        var i = result.IntegerVsTarget;
        string summary = string.Create(CultureInfo.InvariantCulture,
            $"{config.Name}: test MSE float {f.Mse:G4}, integer {i.Mse:G4} ({(f.Mse > 0 ? (i.Mse / f.Mse - 1) * 100 : 0):+0.0;-0.0} %) over {result.Targets.Length} windows\n") + estimate.SummaryLine() + "\n" + estimate.FitLine();
        if (calibration is not null)
            summary += "\n" + calibration.SummaryLine() + "; coefficients written to " + Path.Combine(request.ProjectDirectory, Calibration.FileName);
        else if (coefficients != ResourceCoefficients.Default)
            summary += "\nresource estimate calibrated by " + Path.Combine(request.ProjectDirectory, Calibration.FileName);
        return summary;
    }

    /// <summary>
    /// With FpgaCalibrationReport: refits the coefficients to that report of this design, writes fpga-calibration.json
    /// and report/calibration.json. Null without the property.
    /// </summary>
    private static CalibrationResult? Calibrate(BuildRequest request, HdlGenerator.Design design, OutputWriter outputs, ResourceCoefficients current,
        Action<string> progress)
    {
        string? reportProperty = request.Settings.CalibrationReport?.Trim();
        if (string.IsNullOrEmpty(reportProperty))
            return null;

        string reportPath = Path.GetFullPath(reportProperty, request.ProjectDirectory);
        progress("calibrating the resource estimate to " + reportPath);
        var report = VivadoUtilization.Load(reportPath);
        var modules = ResourceModel.Modules(design, file => outputs.Text("hdl/" + file));
        var calibration = Calibration.Run(report, reportProperty, design, modules, current, ResourceCoefficients.Default);
        Calibration.Write(request.ProjectDirectory, calibration.Coefficients);
        outputs.Add("report/calibration.json", calibration.Json());
        return calibration;
    }

    /// <summary>The project's fpga-calibration.json, or the shipped coefficients; a malformed file is an error unless a report is about to replace it.</summary>
    private static ResourceCoefficients CurrentCoefficients(BuildRequest request)
    {
        try
        {
            return Calibration.ForProject(request.ProjectDirectory);
        }
        catch (FpgaException e) when (e.Code == ErrorCodes.CalibrationFileMalformed && !string.IsNullOrWhiteSpace(request.Settings.CalibrationReport))
        {
            return ResourceCoefficients.Default;
        }
    }
}
