using Microsoft.Build.Framework;
using TransformerFpga.Diagnostics;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Build;

/// <summary>
/// `dotnet build` of a hardware project: adapts the items and Fpga* properties to a
/// <see cref="BuildRequest"/>, runs <see cref="FpgaBuild.Run"/> and logs its coded diagnostics.
/// </summary>
public sealed class FpgaGenerate : Microsoft.Build.Utilities.Task, ICancelableTask
{
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>$(MSBuildProjectFullPath).</summary>
    [Required] public string ProjectFile { get; set; } = "";

    /// <summary>@(TransformerModel): exactly one is valid (TFPGA020 otherwise).</summary>
    public ITaskItem[] Models { get; set; } = [];
    public ITaskItem[] Precisions { get; set; } = [];
    public ITaskItem[] Buffers { get; set; } = [];
    public ITaskItem[] Parallelism { get; set; } = [];

    public string Part { get; set; } = "";
    public string ClockMHz { get; set; } = "";
    public string DefaultWeightBits { get; set; } = "";
    public string DefaultActivationBits { get; set; } = "";
    public string DefaultBufferResource { get; set; } = "";
    public string DefaultLanes { get; set; } = "";
    public string UtilizationLimitPercent { get; set; } = "";
    /// <summary>A string, not bool, so that a typo becomes TFPGA026 instead of MSBuild's MSB4030.</summary>
    public string BudgetAsWarning { get; set; } = "";
    [Required] public string OutputDir { get; set; } = "";
    public string TopName { get; set; } = "";
    /// <summary>$(FpgaCalibrationReport): Vivado's hierarchical utilization report to calibrate the estimate to.</summary>
    public string CalibrationReport { get; set; } = "";

    public void Cancel() => _cancel.Cancel();

    public override bool Execute()
    {
        string projectFile = Path.GetFullPath(ProjectFile);
        bool budgetAsWarning = false;
        string budgetText = BudgetAsWarning.Trim();
        if (budgetText.Length > 0 && !bool.TryParse(budgetText, out budgetAsWarning))
        {
            Log.LogError(null, ErrorCodes.InvalidProperty, null, projectFile, 0, 0, 0, 0,
                $"FpgaBudgetAsWarning is '{BudgetAsWarning}'; use true or false");
            return false;
        }

        var settings = new BuildSettings
        {
            Part = OrDefault(Part, "xc7s15ftgb196-1"),
            ClockMHz = OrDefault(ClockMHz, "100"),
            DefaultWeightBits = OrDefault(DefaultWeightBits, "8"),
            DefaultActivationBits = OrDefault(DefaultActivationBits, "8"),
            DefaultBufferResource = OrDefault(DefaultBufferResource, "Auto"),
            DefaultLanes = OrDefault(DefaultLanes, "1"),
            UtilizationLimitPercent = OrDefault(UtilizationLimitPercent, "100"),
            BudgetAsWarning = budgetAsWarning,
            OutputDir = Path.GetFullPath(OutputDir, Path.GetDirectoryName(projectFile)!),
            TopName = string.IsNullOrWhiteSpace(TopName) ? null : TopName.Trim(),
            CalibrationReport = string.IsNullOrWhiteSpace(CalibrationReport) ? null : CalibrationReport.Trim(),
        };
        var request = new BuildRequest(
            projectFile,
            Models.Select(TaskItems.FullPath).ToList(),
            TaskItems.ToLayerItems(Precisions),
            TaskItems.ToLayerItems(Buffers),
            TaskItems.ToLayerItems(Parallelism),
            settings);

        BuildOutcome outcome;
        try
        {
            outcome = FpgaBuild.Run(request, message => Log.LogMessage(MessageImportance.Normal, message), _cancel.Token);
        }
        catch (OperationCanceledException)
        {
            Log.LogMessage(MessageImportance.High, "FPGA generation canceled.");
            return false;
        }

        foreach (var d in outcome.Diagnostics)
        {
            string? file = string.IsNullOrEmpty(d.File) ? projectFile : d.File;
            int line = Math.Max(0, d.Line);
            switch (d.Severity)
            {
                case Severity.Error:
                    Log.LogError(null, d.Code, null, file, line, 0, 0, 0, d.Message);
                    break;
                case Severity.Warning:
                    Log.LogWarning(null, d.Code, null, file, line, 0, 0, 0, d.Message);
                    break;
                default:
                    Log.LogMessage(null, d.Code, null, file, line, 0, 0, 0, MessageImportance.High, d.Message);
                    break;
            }
        }
        if (!string.IsNullOrEmpty(outcome.Summary))
            Log.LogMessage(MessageImportance.High, outcome.Summary);

        bool success = outcome.Success && !Log.HasLoggedErrors;
        if (!success && !Log.HasLoggedErrors)
        {
            // Defensive: never return false without an error (MSBuild would print MSB4181).
            Log.LogError(null, ErrorCodes.InternalError, null, projectFile, 0, 0, 0, 0, "FPGA generation failed without a diagnostic; please report it");
        }
        return success;
    }

    private static string OrDefault(string value, string fallback) =>
        string.IsNullOrWhiteSpace(value) ? fallback : value.Trim();
}
