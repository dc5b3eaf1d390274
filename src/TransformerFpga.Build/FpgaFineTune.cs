using Microsoft.Build.Framework;
using TransformerFpga.Diagnostics;
using TransformerFpga.FineTuning;

namespace TransformerFpga.Build;

/// <summary>
/// `dotnet build -t:FpgaFineTune`: adapts the items and Fpga* properties to a <see cref="FineTuneRequest"/>, runs
/// <see cref="FineTuneJob.Run"/>, logs its progress per epoch and its coded diagnostics. Ctrl+C cancels it
/// (<see cref="ICancelableTask"/>): training stops at its next batch and fpga-finetuned.* stay as they were.
/// </summary>
public sealed class FpgaFineTune : ProjectTask
{
    /// <summary>$(FpgaFineTuneEpochs).</summary>
    public string Epochs { get; set; } = "";
    /// <summary>$(FpgaFineTuneLearningRate): Adam's peak step.</summary>
    public string LearningRate { get; set; } = "";
    /// <summary>$(FpgaFineTuneValidationPercent): share of the calibration windows held out to choose the best epoch.</summary>
    public string ValidationPercent { get; set; } = "";

    public override bool Execute()
    {
        var request = new FineTuneRequest(Request(), new FineTuneSettings
        {
            Epochs = Epochs,
            LearningRate = LearningRate,
            ValidationPercent = ValidationPercent,
        });

        FineTuneOutcome outcome;
        try
        {
            outcome = FineTuneJob.Run(request, message => Log.LogMessage(MessageImportance.High, message), Cancellation);
        }
        catch (OperationCanceledException)
        {
            Log.LogError(null, ErrorCodes.FineTuneCanceled, null, FullProjectFile, 0, 0, 0, 0,
                $"FpgaFineTune was canceled; {FineTunedWeights.WeightsFileName} and {FineTunedWeights.ManifestFileName} are unchanged");
            return false;
        }
        return Report(outcome.Success, outcome.Diagnostics, outcome.Summary, "FpgaFineTune");
    }
}
