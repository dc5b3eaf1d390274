using TransformerFpga.Diagnostics;
using TransformerFpga.Model;

namespace TransformerFpga.Pipeline;

/// <param name="OutputFiles">The files of the generated design, relative to the output folder ('/'-separated); empty unless the hardware folders were written.</param>
public sealed record BuildOutcome(bool Success, IReadOnlyList<FpgaDiagnostic> Diagnostics, string? Summary, IReadOnlyList<string> OutputFiles);

/// <summary>The whole `dotnet build` job behind the MSBuild task: load, quantize, simulate, report, generate.</summary>
public static class FpgaBuild
{
    /// <summary>Runs the build; never throws for user errors (they become coded diagnostics).</summary>
    public static BuildOutcome Run(BuildRequest request, Action<string>? progress = null, CancellationToken cancellation = default)
    {
        var diagnostics = new List<FpgaDiagnostic>();
        try
        {
            var written = new List<string>();
            string summary = BuildPipeline.Execute(request, diagnostics, written, progress ?? (_ => { }), cancellation);
            return new BuildOutcome(!diagnostics.Any(d => d.Severity == Severity.Error), diagnostics, summary, written);
        }
        catch (FpgaException e)
        {
            diagnostics.Add(FpgaDiagnostic.From(e));
            return new BuildOutcome(false, diagnostics, null, []);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            diagnostics.Add(new FpgaDiagnostic(Severity.Error, ErrorCodes.InternalError, request.ProjectFile, 0,
                $"internal error ({e.GetType().Name}: {e.Message}); please report it with the model files"));
            return new BuildOutcome(false, diagnostics, null, []);
        }
    }

    /// <summary>
    /// The calibration file a build reads, for MSBuild's Inputs: the report when FpgaCalibrationReport is set
    /// (fpga-calibration.json is then an output), else fpga-calibration.json. Only files that exist.
    /// </summary>
    public static IReadOnlyList<string> CalibrationInputFiles(string projectFile, string? calibrationReport) =>
        CalibrationInputFile(projectFile, calibrationReport, Hardware.Calibration.FileName);

    /// <summary>The same for the power model: the FpgaPowerReport file when set, else fpga-power-calibration.json.</summary>
    public static IReadOnlyList<string> PowerCalibrationInputFiles(string projectFile, string? powerReport) =>
        CalibrationInputFile(projectFile, powerReport, Hardware.PowerCalibration.FileName);

    /// <summary>fpga-finetuned.safetensors and fpga-finetuned.json beside the project, those that exist: a fine-tuning run regenerates.</summary>
    public static IReadOnlyList<string> FineTunedInputFiles(string projectFile)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(projectFile))!;
        return new[] { FineTuning.FineTunedWeights.WeightsPath(directory), FineTuning.FineTunedWeights.ManifestPath(directory) }.Where(File.Exists).ToList();
    }

    private static IReadOnlyList<string> CalibrationInputFile(string projectFile, string? report, string calibrationFile)
    {
        try
        {
            string directory = Path.GetDirectoryName(Path.GetFullPath(projectFile))!;
            string file = string.IsNullOrWhiteSpace(report)
                ? Path.Combine(directory, calibrationFile)
                : Path.GetFullPath(report.Trim(), directory);
            return File.Exists(file) ? [file] : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return [];
        }
    }

    /// <summary>
    /// The files a build reads (model JSON, weights, data), for MSBuild's Inputs. Best effort: a broken
    /// model JSON yields just the JSON itself, and the build then reports the problem.
    /// </summary>
    public static IReadOnlyList<string> InputFiles(string modelPath)
    {
        var files = new List<string> { Path.GetFullPath(modelPath) };
        try
        {
            string directory = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
            var doc = ModelLoader.Parse(File.ReadAllText(modelPath), modelPath);
            void Add(string? relative)
            {
                if (string.IsNullOrWhiteSpace(relative)) return;
                string full = Path.GetFullPath(Path.Combine(directory, relative));
                if (File.Exists(full)) files.Add(full);
            }
            Add(doc.Weights);
            Add(doc.Data?.Calibration);
            Add(doc.Data?.Test);
        }
        catch (Exception e) when (e is FpgaException or IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
        }
        return files.Distinct(StringComparer.Ordinal).ToList();
    }
}
