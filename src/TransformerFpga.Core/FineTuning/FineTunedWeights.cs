using TransformerFpga.Diagnostics;
using TransformerFpga.Integer;
using TransformerFpga.Model;

namespace TransformerFpga.FineTuning;

/// <summary>The weights a build uses, and the note or warning that says which.</summary>
public sealed record WeightsChoice(TransformerWeights Weights, string? Note, FpgaDiagnostic? Warning);

/// <summary>
/// fpga-finetuned.safetensors and its manifest fpga-finetuned.json beside the project: written by FpgaFineTune,
/// used by later builds while the manifest matches the plan and the source weights (and the tuned file itself).
/// </summary>
public static class FineTunedWeights
{
    public const string WeightsFileName = "fpga-finetuned.safetensors";
    public const string ManifestFileName = "fpga-finetuned.json";

    public static string WeightsPath(string projectDirectory) => Path.Combine(projectDirectory, WeightsFileName);
    public static string ManifestPath(string projectDirectory) => Path.Combine(projectDirectory, ManifestFileName);

    /// <summary>
    /// The fine-tuned weights when they were tuned for this plan from these source weights; otherwise the source
    /// weights, with TFPGA051 when fine-tuned files exist but do not apply. Nothing beside the project: the source weights.
    /// </summary>
    public static WeightsChoice Choose(string projectDirectory, ModelConfig config, Func<string, LayerBits> bits, TransformerWeights source)
    {
        string weightsPath = WeightsPath(projectDirectory), manifestPath = ManifestPath(projectDirectory);
        bool hasWeights = File.Exists(weightsPath), hasManifest = File.Exists(manifestPath);
        if (!hasWeights && !hasManifest) return new WeightsChoice(source, null, null);

        WeightsChoice Stale(string why) => new(source, null, new FpgaDiagnostic(Severity.Warning, ErrorCodes.FineTunedWeightsStale, hasManifest ? manifestPath : weightsPath, 0,
            $"the fine-tuned weights beside the project are stale: {why}; this build uses the source weights {Path.GetFileName(config.WeightsPath)}. " +
            "Run `dotnet build -t:FpgaFineTune` for the current plan, or delete fpga-finetuned.*"));

        if (!hasWeights) return Stale($"{WeightsFileName} is missing");
        var manifest = hasManifest ? FineTuneManifest.Parse(File.ReadAllText(manifestPath)) : null;
        if (manifest is null) return Stale(hasManifest ? $"{ManifestFileName} is not a valid manifest" : $"{ManifestFileName} is missing");
        if (manifest.FineTunedWeightsSha256 != FineTuneManifest.Sha256(weightsPath))
            return Stale($"{WeightsFileName} is not the file its manifest describes (SHA-256 differs)");
        if (manifest.SourceWeightsSha256 != FineTuneManifest.Sha256(config.WeightsPath))
            return Stale($"they were tuned from other source weights ({Path.GetFileName(config.WeightsPath)} changed since)");
        var plan = FineTuneManifest.EffectivePlan(config, bits);
        var changed = plan.Zip(manifest.Plan).Where(p => p.First != p.Second).Select(p => $"{p.First} (tuned for {p.Second})").ToList();
        if (plan.Count != manifest.Plan.Count || changed.Count > 0)
            return Stale(changed.Count == 0 ? "they were tuned for a model with other layers"
                : $"they were tuned for another plan: now {string.Join(", ", changed.Take(4))}{(changed.Count > 4 ? $" and {changed.Count - 4} more" : "")}");

        var weights = TransformerWeights.FromTensors(config, SafeTensors.Read(weightsPath), weightsPath);
        return new WeightsChoice(weights, $"using the fine-tuned weights {WeightsFileName} (tuned for this plan; validation MSE " +
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{manifest.ValidationMseBefore:G4} → {manifest.ValidationMseAfter:G4}, test MSE {manifest.TestMseBefore:G4} → {manifest.TestMseAfter:G4})"), null);
    }

    /// <summary>
    /// Writes both files through temporary files renamed into place, weights first: an interrupted run leaves the
    /// previous pair, and a crash between the two renames leaves weights whose manifest no longer matches them (stale).
    /// </summary>
    public static void Write(string projectDirectory, byte[] weights, string manifestJson)
    {
        string weightsPath = WeightsPath(projectDirectory), manifestPath = ManifestPath(projectDirectory);
        string suffix = ".tmp-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            File.WriteAllBytes(weightsPath + suffix, weights);
            File.WriteAllText(manifestPath + suffix, manifestJson, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            File.Move(weightsPath + suffix, weightsPath, overwrite: true);
            File.Move(manifestPath + suffix, manifestPath, overwrite: true);
        }
        finally
        {
            File.Delete(weightsPath + suffix);
            File.Delete(manifestPath + suffix);
        }
    }
}
