using Microsoft.Build.Framework;
using TransformerFpga.Diagnostics;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Build;

/// <summary>
/// `dotnet build` of a hardware project: adapts the items and Fpga* properties to a
/// <see cref="BuildRequest"/>, runs <see cref="FpgaBuild.Run"/> and logs its coded diagnostics.
/// </summary>
public sealed class FpgaGenerate : ProjectTask
{
    /// <summary>A string, not bool, so that a typo becomes TFPGA026 instead of MSBuild's MSB4030.</summary>
    public string BudgetAsWarning { get; set; } = "";
    /// <summary>$(FpgaCalibrationReport): Vivado's hierarchical utilization report to calibrate the estimate to.</summary>
    public string CalibrationReport { get; set; } = "";
    /// <summary>$(FpgaPowerReport): Vivado's report_power text to calibrate the power model to.</summary>
    public string PowerReport { get; set; } = "";
    /// <summary>@(FpgaConstraints): the board's XDC files, read by vivado/build.tcl from where they are.</summary>
    public ITaskItem[] Constraints { get; set; } = [];
    /// <summary>The success stamp (see <see cref="GenerationStamp"/>), written only when the generation succeeded without any error.</summary>
    public string SuccessStamp { get; set; } = "";

    public override bool Execute()
    {
        bool budgetAsWarning = false;
        string budgetText = BudgetAsWarning.Trim();
        if (budgetText.Length > 0 && !bool.TryParse(budgetText, out budgetAsWarning))
        {
            Log.LogError(null, ErrorCodes.InvalidProperty, null, FullProjectFile, 0, 0, 0, 0,
                $"FpgaBudgetAsWarning is '{BudgetAsWarning}'; use true or false");
            return false;
        }
        var request = Request(s => s with
        {
            BudgetAsWarning = budgetAsWarning,
            CalibrationReport = string.IsNullOrWhiteSpace(CalibrationReport) ? null : CalibrationReport.Trim(),
            PowerReport = string.IsNullOrWhiteSpace(PowerReport) ? null : PowerReport.Trim(),
            BoardConstraints = Constraints.Select(TaskItems.FullPath).ToList(),
        });

        BuildOutcome outcome;
        try
        {
            outcome = FpgaBuild.Run(request, message => Log.LogMessage(MessageImportance.Normal, message), Cancellation);
        }
        catch (OperationCanceledException)
        {
            Log.LogMessage(MessageImportance.High, "FPGA generation canceled.");
            return false;
        }
        bool success = Report(outcome.Success, outcome.Diagnostics, outcome.Summary, "FPGA generation");
        if (success && !AnyWarningIsError(outcome.Diagnostics) && SuccessStamp.Length > 0)
        {
            try
            {
                GenerationStamp.Write(SuccessStamp, request.Settings.OutputDir, outcome.OutputFiles, outcome.Diagnostics);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Without a stamp the next build only generates again.
                Log.LogMessage(MessageImportance.High, "FPGA generation not recorded as up to date: " + e.Message);
            }
        }
        return success;
    }
}
