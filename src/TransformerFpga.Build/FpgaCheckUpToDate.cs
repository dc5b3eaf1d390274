using Microsoft.Build.Framework;

namespace TransformerFpga.Build;

/// <summary>
/// Runs just before FpgaGenerate's own Inputs/Outputs check. Deletes the success stamp when a generated file was
/// deleted or changed, so that the generation runs again; when the generation is up to date (the stamp is newer
/// than every input, the comparison MSBuild makes next) logs the warnings of the generation that made it again. When
/// this build turns one of those warnings into an error it deletes the stamp instead: the generation runs and fails
/// again, so that no build that failed leaves a success behind.
/// </summary>
public sealed class FpgaCheckUpToDate : Microsoft.Build.Utilities.Task
{
    /// <summary>$(MSBuildProjectFullPath): where diagnostics without a file point.</summary>
    [Required] public string ProjectFile { get; set; } = "";
    [Required] public string SuccessStamp { get; set; } = "";
    [Required] public string OutputDir { get; set; } = "";
    /// <summary>FpgaGenerate's Inputs.</summary>
    public ITaskItem[] Inputs { get; set; } = [];
    /// <summary>As FpgaGenerate's: which warnings this build turns into errors.</summary>
    public string TreatWarningsAsErrors { get; set; } = "";
    public string WarningsAsErrors { get; set; } = "";
    public string WarningsNotAsErrors { get; set; } = "";
    public string WarningsAsMessages { get; set; } = "";
    public string[] CommandLineWarningsAsErrors { get; set; } = [];

    public override bool Execute()
    {
        if (!File.Exists(SuccessStamp))
            return true;
        var stamp = GenerationStamp.Read(SuccessStamp);
        string? changed = stamp is null ? "the success stamp is unreadable" : stamp.FirstChangedOutput(OutputDir) is { } file ? file + " was deleted or changed" : null;
        if (changed is not null)
        {
            Log.LogMessage(MessageImportance.High, "FPGA outputs out of date (" + changed + "); generating again.");
            File.Delete(SuccessStamp);
            return true;
        }
        DateTime stampTime = File.GetLastWriteTimeUtc(SuccessStamp);
        bool upToDate = Inputs.All(input => File.Exists(input.ItemSpec) && File.GetLastWriteTimeUtc(input.ItemSpec) <= stampTime);
        if (!upToDate)
            return true;
        if (new WarningsAsErrors(TreatWarningsAsErrors, WarningsAsErrors, WarningsNotAsErrors, WarningsAsMessages, CommandLineWarningsAsErrors, BuildEngine)
            .AnyIsError(stamp!.Diagnostics))
        {
            File.Delete(SuccessStamp);
            return true;
        }
        foreach (var diagnostic in stamp.Diagnostics)
            ProjectTask.LogDiagnostic(Log, diagnostic, Path.GetFullPath(ProjectFile));
        return true;
    }
}
