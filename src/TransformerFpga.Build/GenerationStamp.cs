using System.Text.Json;
using TransformerFpga.Diagnostics;

namespace TransformerFpga.Build;

/// <summary>
/// The success stamp (obj/.../fpga/fpga.succeeded), FpgaGenerate's only MSBuild Output. It exists only after a
/// generation that logged no error, warnings turned into errors (-warnaserror) included, and records what an
/// up-to-date build needs besides timestamps: every generated file with its size and write time (a deleted or
/// edited output makes the next build regenerate) and the warnings and messages of that generation (an
/// up-to-date build logs them again, so a skipped generation never hides a warning).
/// </summary>
internal sealed class GenerationStamp
{
    public sealed record OutputFile(string Path, long Length, long LastWriteTicks);

    public List<OutputFile> Outputs { get; init; } = [];
    public List<FpgaDiagnostic> Diagnostics { get; init; } = [];

    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    /// <summary>Records the files (relative to <paramref name="outputDir"/>) as they are now, and the non-error diagnostics.</summary>
    public static void Write(string stampFile, string outputDir, IEnumerable<string> outputFiles, IEnumerable<FpgaDiagnostic> diagnostics)
    {
        var stamp = new GenerationStamp
        {
            Outputs = outputFiles.Order(StringComparer.Ordinal).Select(path =>
            {
                var info = new FileInfo(Path.Combine(outputDir, path));
                return new OutputFile(path, info.Length, info.LastWriteTimeUtc.Ticks);
            }).ToList(),
            Diagnostics = diagnostics.Where(d => d.Severity != Severity.Error).ToList(),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(stampFile)!);
        string temporary = stampFile + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(stamp, Options));
        File.Move(temporary, stampFile, overwrite: true);
    }

    /// <summary>The stamp, or null when it is missing or unreadable (an older or damaged stamp means "regenerate").</summary>
    public static GenerationStamp? Read(string stampFile)
    {
        try
        {
            return File.Exists(stampFile) ? JsonSerializer.Deserialize<GenerationStamp>(File.ReadAllText(stampFile), Options) : null;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>The first recorded output that is missing or differs in size or write time; null when all are intact.</summary>
    public string? FirstChangedOutput(string outputDir)
    {
        foreach (var output in Outputs)
        {
            var info = new FileInfo(Path.Combine(outputDir, output.Path));
            if (!info.Exists || info.Length != output.Length || info.LastWriteTimeUtc.Ticks != output.LastWriteTicks)
                return output.Path;
        }
        return null;
    }
}
