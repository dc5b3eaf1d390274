using Microsoft.Build.Framework;
using TransformerFpga.Diagnostics;
using TransformerFpga.Explore;
using TransformerFpga.FineTuning;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Build;

/// <summary>
/// `dotnet build -t:FpgaExplore`: adapts the items and Fpga* properties to an <see cref="ExploreRequest"/>,
/// runs <see cref="DesignExploration.Run"/>, logs its progress and coded diagnostics. Ctrl+C cancels it
/// (<see cref="ICancelableTask"/>): the search stops at its next check and report/explore.* stay as they were.
/// </summary>
public sealed class FpgaExplore : ProjectTask
{
    /// <summary>$(FpgaExploreObjective): Accuracy or Latency.</summary>
    public string Objective { get; set; } = "";
    /// <summary>$(FpgaExploreBits): candidate bits, e.g. 4;6;8.</summary>
    public string Bits { get; set; } = "";
    /// <summary>$(FpgaExploreMaxErrorIncreasePercent): the Latency objective's error allowance over the uniform 8-bit design.</summary>
    public string MaxErrorIncreasePercent { get; set; } = "";
    /// <summary>$(FpgaExploreFineTune): true fine-tunes the best design and the uniform baseline to report their fine-tuned errors.</summary>
    public string FineTune { get; set; } = "";
    /// <summary>$(FpgaFineTuneEpochs), $(FpgaFineTuneLearningRate), $(FpgaFineTuneValidationPercent): the fine-tuning as FpgaFineTune runs it.</summary>
    public string FineTuneEpochs { get; set; } = "";
    public string FineTuneLearningRate { get; set; } = "";
    public string FineTuneValidationPercent { get; set; } = "";

    public override bool Execute()
    {
        string projectFile = FullProjectFile;
        var request = new ExploreRequest(Request(),
            new ExploreSettings
            {
                Objective = OrDefault(Objective, "Accuracy"),
                Bits = OrDefault(Bits, "4;6;8"),
                MaxErrorIncreasePercent = OrDefault(MaxErrorIncreasePercent, "5"),
                FineTune = OrDefault(FineTune, "false"),
                FineTuning = new FineTuneSettings { Epochs = FineTuneEpochs, LearningRate = FineTuneLearningRate, ValidationPercent = FineTuneValidationPercent },
            });

        ExploreOutcome outcome;
        try
        {
            outcome = DesignExploration.Run(request, message => Log.LogMessage(MessageImportance.High, message), Cancellation);
        }
        catch (OperationCanceledException)
        {
            Log.LogError(null, ErrorCodes.ExploreCanceled, null, projectFile, 0, 0, 0, 0, "FpgaExplore was canceled; report/explore.* are unchanged");
            return false;
        }

        return Report(outcome.Success, outcome.Diagnostics, outcome.Summary, "FpgaExplore");
    }
}
