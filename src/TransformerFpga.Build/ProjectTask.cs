using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using TransformerFpga.Diagnostics;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Build;

/// <summary>
/// What FpgaGenerate and FpgaExplore share: the project's items and Fpga* properties as a
/// <see cref="BuildRequest"/>, cancellation (<see cref="ICancelableTask"/>) and logging of coded diagnostics.
/// </summary>
public abstract class ProjectTask : Microsoft.Build.Utilities.Task, ICancelableTask
{
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>$(MSBuildProjectFullPath).</summary>
    [Required] public string ProjectFile { get; set; } = "";

    /// <summary>@(TransformerModel): exactly one is valid (TFPGA020 otherwise).</summary>
    public ITaskItem[] Models { get; set; } = [];
    public ITaskItem[] Precisions { get; set; } = [];
    public ITaskItem[] Buffers { get; set; } = [];
    public ITaskItem[] Parallelism { get; set; } = [];
    /// <summary>@(WeightResource).</summary>
    public ITaskItem[] WeightResources { get; set; } = [];

    public string Part { get; set; } = "";
    public string ClockMHz { get; set; } = "";
    public string DefaultWeightBits { get; set; } = "";
    public string DefaultActivationBits { get; set; } = "";
    public string DefaultBufferResource { get; set; } = "";
    public string DefaultLanes { get; set; } = "";
    public string UtilizationLimitPercent { get; set; } = "";
    [Required] public string OutputDir { get; set; } = "";
    public string TopName { get; set; } = "";
    public string Architecture { get; set; } = "";
    public string EngineLanes { get; set; } = "";

    public void Cancel() => _cancel.Cancel();

    protected CancellationToken Cancellation => _cancel.Token;

    protected string FullProjectFile => Path.GetFullPath(ProjectFile);

    /// <summary>The request for the project; <paramref name="settings"/> adds what only one task passes.</summary>
    protected BuildRequest Request(Func<BuildSettings, BuildSettings>? settings = null)
    {
        string projectFile = FullProjectFile;
        var common = new BuildSettings
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
            Architecture = OrDefault(Architecture, "Engine"),
            EngineLanes = EngineLanes.Trim(),
        };
        return new BuildRequest(projectFile, Models.Select(TaskItems.FullPath).ToList(), TaskItems.ToLayerItems(Precisions),
            TaskItems.ToLayerItems(Buffers), TaskItems.ToLayerItems(Parallelism), settings is null ? common : settings(common))
        {
            WeightResources = TaskItems.ToLayerItems(WeightResources),
        };
    }

    /// <summary>Logs the diagnostics and the summary; false (with an error logged) unless it succeeded.</summary>
    protected bool Report(bool succeeded, IReadOnlyList<FpgaDiagnostic> diagnostics, string? summary, string what)
    {
        string projectFile = FullProjectFile;
        foreach (var d in diagnostics)
            LogDiagnostic(Log, d, projectFile);
        if (!string.IsNullOrEmpty(summary))
            foreach (string text in summary.Split('\n'))
                Log.LogMessage(MessageImportance.High, text);

        bool success = succeeded && !Log.HasLoggedErrors;
        // Never return false without an error (MSBuild would print MSB4181).
        if (!success && !Log.HasLoggedErrors)
            Log.LogError(null, ErrorCodes.InternalError, null, projectFile, 0, 0, 0, 0, what + " failed without a diagnostic; please report it");
        return success;
    }

    /// <summary>Logs one diagnostic as an MSBuild error, warning or message; without a file it points at the project.</summary>
    internal static void LogDiagnostic(TaskLoggingHelper log, FpgaDiagnostic d, string projectFile)
    {
        string file = string.IsNullOrEmpty(d.File) ? projectFile : d.File;
        int line = Math.Max(0, d.Line), column = Math.Max(0, d.Column);
        switch (d.Severity)
        {
            case Severity.Error:
                log.LogError(null, d.Code, null, file, line, column, 0, 0, d.Message);
                break;
            case Severity.Warning:
                log.LogWarning(null, d.Code, null, file, line, column, 0, 0, d.Message);
                break;
            default:
                log.LogMessage(null, d.Code, null, file, line, column, 0, 0, MessageImportance.High, d.Message);
                break;
        }
    }

    /// <summary>$(MSBuildTreatWarningsAsErrors).</summary>
    public string TreatWarningsAsErrors { get; set; } = "";
    /// <summary>$(MSBuildWarningsAsErrors), $(MSBuildWarningsNotAsErrors), $(MSBuildWarningsAsMessages): codes separated by ';' or ','.</summary>
    public string WarningsAsErrors { get; set; } = "";
    public string WarningsNotAsErrors { get; set; } = "";
    public string WarningsAsMessages { get; set; } = "";
    /// <summary>The codes the command line turns into errors (<see cref="FpgaWarningsAsErrorsProbe"/>).</summary>
    public string[] CommandLineWarningsAsErrors { get; set; } = [];

    /// <summary>Whether MSBuild turns any of these warnings into errors (see <see cref="Build.WarningsAsErrors"/>).</summary>
    protected bool AnyWarningIsError(IEnumerable<FpgaDiagnostic> diagnostics) =>
        new WarningsAsErrors(TreatWarningsAsErrors, WarningsAsErrors, WarningsNotAsErrors, WarningsAsMessages, CommandLineWarningsAsErrors, BuildEngine)
            .AnyIsError(diagnostics);

    protected static string OrDefault(string value, string fallback) =>
        string.IsNullOrWhiteSpace(value) ? fallback : value.Trim();
}
