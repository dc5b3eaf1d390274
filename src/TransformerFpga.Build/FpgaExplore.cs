using Microsoft.Build.Framework;
using TransformerFpga.Diagnostics;
using TransformerFpga.Explore;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Build;

/// <summary>
/// `dotnet build -t:FpgaExplore`: adapts the items and Fpga* properties to an <see cref="ExploreRequest"/>,
/// runs <see cref="DesignExploration.Run"/>, logs its progress and coded diagnostics. Ctrl+C cancels it
/// (<see cref="ICancelableTask"/>): the search stops at its next check and report/explore.* stay as they were.
/// </summary>
public sealed class FpgaExplore : Microsoft.Build.Utilities.Task, ICancelableTask
{
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>$(MSBuildProjectFullPath).</summary>
    [Required] public string ProjectFile { get; set; } = "";

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
    [Required] public string OutputDir { get; set; } = "";
    public string TopName { get; set; } = "";

    /// <summary>$(FpgaExploreObjective): Accuracy or Latency.</summary>
    public string Objective { get; set; } = "";
    /// <summary>$(FpgaExploreBits): candidate bits, e.g. 4;6;8.</summary>
    public string Bits { get; set; } = "";
    /// <summary>$(FpgaExploreMaxErrorIncreasePercent): the Latency objective's error allowance over the uniform 8-bit design.</summary>
    public string MaxErrorIncreasePercent { get; set; } = "";

    public void Cancel() => _cancel.Cancel();

    public override bool Execute()
    {
        string projectFile = Path.GetFullPath(ProjectFile);
        var settings = new BuildSettings
        {
            Part = OrDefault(Part, "xc7s15ftgb196-1"),
            ClockMHz = OrDefault(ClockMHz, "100"),
            DefaultWeightBits = OrDefault(DefaultWeightBits, "8"),
            DefaultActivationBits = OrDefault(DefaultActivationBits, "8"),
            DefaultBufferResource = OrDefault(DefaultBufferResource, "Auto"),
            DefaultLanes = OrDefault(DefaultLanes, "1"),
            UtilizationLimitPercent = OrDefault(UtilizationLimitPercent, "100"),
            OutputDir = Path.GetFullPath(OutputDir, Path.GetDirectoryName(projectFile)!),
            TopName = string.IsNullOrWhiteSpace(TopName) ? null : TopName.Trim(),
        };
        var request = new ExploreRequest(
            new BuildRequest(projectFile, Models.Select(TaskItems.FullPath).ToList(), TaskItems.ToLayerItems(Precisions),
                TaskItems.ToLayerItems(Buffers), TaskItems.ToLayerItems(Parallelism), settings),
            new ExploreSettings
            {
                Objective = OrDefault(Objective, "Accuracy"),
                Bits = OrDefault(Bits, "4;6;8"),
                MaxErrorIncreasePercent = OrDefault(MaxErrorIncreasePercent, "5"),
            });

        ExploreOutcome outcome;
        try
        {
            outcome = DesignExploration.Run(request, message => Log.LogMessage(MessageImportance.High, message), _cancel.Token);
        }
        catch (OperationCanceledException)
        {
            Log.LogError(null, ErrorCodes.ExploreCanceled, null, projectFile, 0, 0, 0, 0, "FpgaExplore was canceled; report/explore.* are unchanged");
            return false;
        }

        foreach (var d in outcome.Diagnostics)
        {
            string file = string.IsNullOrEmpty(d.File) ? projectFile : d.File;
            switch (d.Severity)
            {
                case Severity.Error:
                    Log.LogError(null, d.Code, null, file, Math.Max(0, d.Line), 0, 0, 0, d.Message);
                    break;
                case Severity.Warning:
                    Log.LogWarning(null, d.Code, null, file, Math.Max(0, d.Line), 0, 0, 0, d.Message);
                    break;
                default:
                    Log.LogMessage(null, d.Code, null, file, Math.Max(0, d.Line), 0, 0, 0, MessageImportance.High, d.Message);
                    break;
            }
        }
        if (!string.IsNullOrEmpty(outcome.Summary))
            foreach (string line in outcome.Summary.Split('\n'))
                Log.LogMessage(MessageImportance.High, line);

        bool success = outcome.Success && !Log.HasLoggedErrors;
        if (!success && !Log.HasLoggedErrors)
            Log.LogError(null, ErrorCodes.InternalError, null, projectFile, 0, 0, 0, 0, "FpgaExplore failed without a diagnostic; please report it");
        return success;
    }

    private static string OrDefault(string value, string fallback) =>
        string.IsNullOrWhiteSpace(value) ? fallback : value.Trim();
}
