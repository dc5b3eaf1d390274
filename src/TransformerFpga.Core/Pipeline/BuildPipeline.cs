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
    /// <param name="written">Receives the relative paths of the files the design now consists of (all four folders) when the hardware folders were written.</param>
    public static string Execute(BuildRequest request, List<FpgaDiagnostic> diagnostics, List<string> written, Action<string> progress, CancellationToken cancellation)
    {
        string projectFile = request.ProjectFile;
        var settings = request.Settings;
        var inputs = ProjectInputs.Resolve(request, fineTunedWeights: true);
        var (config, weights, device, _, clock, limit, plan, topName) = inputs;
        diagnostics.AddRange(inputs.Diagnostics);
        if (inputs.WeightsNote is not null) progress(inputs.WeightsNote);
        var boardConstraints = BoardConstraints(request);
        cancellation.ThrowIfCancellationRequested();
        if (weights.UnusedTensors.Count > 0)
            progress($"tensors of {Path.GetFileName(config.WeightsPath)} the model does not use: {string.Join(", ", weights.UnusedTensors)}");

        progress("calibrating and quantizing " + config.Name);
        var evaluation = new ModelEvaluation(config, weights, cancellation);
        var model = evaluation.Quantize(plan.Bits);
        plan.ValidateLanes(model, projectFile);
        diagnostics.AddRange(ItemEffects.Check(model, plan, projectFile));
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
        var auto = AutoMapping.ResolveEngineLanes(plan, estimator.Estimate);
        if (auto.Switches.Count > 0)
            progress("Auto layers moved to fit the budget: " + string.Join(", ", auto.Switches));
        plan = auto.Plan;

        progress("generating VHDL");
        var design = HdlGenerator.Generate(model, plan, topName, TestVectors.Select(model, evaluation.Test.Inputs, result.QuantizedOutputs), outputs);
        HostInterface.Generate(model, design, outputs);
        SynthesisScripts.Generate(design, settings.Part, clock, outputs, boardConstraints);

        progress("estimating resources");
        var calibration = Calibrate(request, design, outputs, projectCoefficients, progress);
        var coefficients = projectCoefficients;
        if (calibration is not null)
        {
            coefficients = Calibration.WithFallback(calibration.Coefficients, ResourceCoefficients.Default);
            estimator = new PlanEstimator(evaluation, topName, device, settings.Part, clock, limit, coefficients);
        }
        var estimate = estimator.Estimate(model, plan, design, file => outputs.Text("hdl/" + file));
        double TestMse(LayerPlan changed) => evaluation.Evaluate(evaluation.Quantize(changed.Bits)).IntegerVsTarget.Mse;
        var budget = BudgetGate.Check(estimate, plan, estimator.Estimate, settings.BudgetAsWarning, projectFile, cancellation, TestMse, result.IntegerVsTarget.Mse);
        diagnostics.AddRange(budget);
        var edge = BudgetGate.EdgeWarnings(estimate, coefficients, projectFile);
        diagnostics.AddRange(edge);
        diagnostics.AddRange(BudgetGate.CheckClock(estimate, settings.BudgetAsWarning, projectFile));
        var powerCalibration = CalibratePower(request, estimate, design, result.Activity, progress);
        var powerModel = powerCalibration?.Calibration ?? CurrentPowerCalibration(request);
        var power = PowerModel.Estimate(estimate, result.Activity, powerModel);
        outputs.Add("report/resources.json", estimate.Json(power));
        var accuracy = result.FloatVsTarget;
        string? coefficientsNote = calibration is not null ? calibration.Markdown()
            : coefficients != ResourceCoefficients.Default ? $"Resource coefficients from `{Calibration.FileName}`: {coefficients.Source}.\n" : null;
        coefficientsNote = (coefficientsNote is null ? "" : coefficientsNote + "\n") + power.Markdown() + (powerCalibration is null ? "" : "\n" + powerCalibration.Markdown());
        string persistence = result.PersistenceVsTarget is { } p
            ? string.Create(CultureInfo.InvariantCulture, $", persistence forecast (the last input value) {p.Mse:G4}") : "";
        outputs.Add("report/summary.md", ResourceSummary.Markdown(estimate, string.Create(CultureInfo.InvariantCulture,
            $"Test MSE: float {accuracy.Mse:G4}, integer {result.IntegerVsTarget.Mse:G4}, integer vs float {result.IntegerVsFloat.Mse:G4}{persistence} ({result.Targets.Length} windows)."),
            coefficientsNote, edge.Select(d => d.Message).ToList()));
        outputs.Add("report/resources.svg", ResourceSummary.Svg(estimate));
        // report/ always describes this attempt; the hardware folders only change when the design fits the budget.
        outputs.Commit(settings.OutputDir, "report");
        if (budget.All(d => d.Severity != Severity.Error))
        {
            outputs.Commit(settings.OutputDir, "hdl", "yosys", "vivado");
            written.AddRange(outputs.Paths);
        }

        var f = result.FloatVsTarget;
        var i = result.IntegerVsTarget;
        string summary = string.Create(CultureInfo.InvariantCulture,
            $"{config.Name}: test MSE float {f.Mse:G4}, integer {i.Mse:G4} ({Reports.Formats.SignedPercent(f.Mse > 0 ? (i.Mse / f.Mse - 1) * 100 : 0)}) over {result.Targets.Length} windows\n") + estimate.SummaryLine() + "\n" + estimate.FitLine() + "\n" + power.SummaryLine();
        if (calibration is not null)
            summary += "\n" + calibration.SummaryLine() + "; coefficients written to " + Path.Combine(request.ProjectDirectory, Calibration.FileName);
        else if (coefficients != ResourceCoefficients.Default)
            summary += "\nresource estimate calibrated by " + Path.Combine(request.ProjectDirectory, Calibration.FileName);
        if (powerCalibration is not null)
            summary += "\n" + powerCalibration.SummaryLine() + "; written to " + Path.Combine(request.ProjectDirectory, PowerCalibration.FileName);
        else if (powerModel != PowerCalibration.Shipped)
            summary += "\npower estimate calibrated by " + Path.Combine(request.ProjectDirectory, PowerCalibration.FileName);
        return summary;
    }

    /// <summary>The FpgaConstraints files as full paths; each must exist, as Vivado reads them by path.</summary>
    private static IReadOnlyList<string> BoardConstraints(BuildRequest request)
    {
        var paths = new List<string>();
        foreach (string item in request.Settings.BoardConstraints)
        {
            string path = Path.GetFullPath(item, request.ProjectDirectory);
            if (!File.Exists(path))
                throw new FpgaException(ErrorCodes.ConstraintsFileMissing, request.ProjectFile,
                    $"FpgaConstraints '{item}' does not exist ({path}); give the board's XDC file (pins, I/O standards) relative to the project folder");
            paths.Add(path);
        }
        return paths;
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
        calibration.Coefficients.ErrorPercent = EstimateError.FromCalibration(calibration.After);
        Calibration.Write(request.ProjectDirectory, calibration.Coefficients);
        outputs.Add("report/calibration.json", calibration.Json());
        return calibration;
    }

    /// <summary>
    /// With FpgaPowerReport: fits the power model to that report_power of this design and writes fpga-power-calibration.json.
    /// Null without the property.
    /// </summary>
    private static PowerCalibrationResult? CalibratePower(BuildRequest request, DesignEstimate estimate, HdlGenerator.Design design, PowerActivity? activity,
        Action<string> progress)
    {
        string? reportProperty = request.Settings.PowerReport?.Trim();
        if (string.IsNullOrEmpty(reportProperty))
            return null;
        string reportPath = Path.GetFullPath(reportProperty, request.ProjectDirectory);
        progress("calibrating the power estimate to " + reportPath);
        var result = PowerCalibration.Run(PowerReport.Load(reportPath), reportProperty, estimate, design, activity, CurrentPowerCalibration(request));
        result.Calibration.Write(request.ProjectDirectory);
        return result;
    }

    /// <summary>The project's fpga-power-calibration.json, or the shipped power model; a malformed file is an error unless a report is about to replace it.</summary>
    private static PowerCalibration CurrentPowerCalibration(BuildRequest request)
    {
        try
        {
            return PowerCalibration.ForProject(request.ProjectDirectory);
        }
        catch (FpgaException e) when (e.Code == ErrorCodes.PowerCalibrationFileMalformed && !string.IsNullOrWhiteSpace(request.Settings.PowerReport))
        {
            return PowerCalibration.Shipped;
        }
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
