using System.Globalization;
using TransformerFpga.Diagnostics;
using TransformerFpga.Integer;
using TransformerFpga.Model;
using TransformerFpga.Pipeline;
using TransformerFpga.Reports;

namespace TransformerFpga.FineTuning;

public sealed record FineTuneRequest(BuildRequest Build, FineTuneSettings Settings);

public sealed record FineTuneOutcome(bool Success, IReadOnlyList<FpgaDiagnostic> Diagnostics, string? Summary);

/// <summary>A plan's fine-tuning and the integer model of the tuned weights on the whole test set, as a build of them measures it.</summary>
public sealed record FineTunedPlan(FineTuneResult Training, SimulationResult Test);

/// <summary>
/// `dotnet build -t:FpgaFineTune`: fine-tunes the project's source weights for the plan its items and properties
/// resolve to (exactly as the build resolves it) and writes fpga-finetuned.safetensors and fpga-finetuned.json beside
/// the project. Cancellation leaves both files as they were.
/// </summary>
public static class FineTuneJob
{
    /// <summary>Never throws for user errors (they become coded diagnostics); throws OperationCanceledException when canceled.</summary>
    public static FineTuneOutcome Run(FineTuneRequest request, Action<string>? progress = null, CancellationToken cancellation = default)
    {
        var diagnostics = new List<FpgaDiagnostic>();
        try
        {
            return new FineTuneOutcome(true, diagnostics, Execute(request, progress ?? (_ => { }), cancellation));
        }
        catch (FpgaException e)
        {
            diagnostics.Add(FpgaDiagnostic.From(e));
            return new FineTuneOutcome(false, diagnostics, null);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            diagnostics.Add(new FpgaDiagnostic(Severity.Error, ErrorCodes.InternalError, request.Build.ProjectFile, 0,
                $"internal error ({e.GetType().Name}: {e.Message}); please report it with the model files"));
            return new FineTuneOutcome(false, diagnostics, null);
        }
    }

    private static string Execute(FineTuneRequest request, Action<string> progress, CancellationToken cancellation)
    {
        string projectDirectory = request.Build.ProjectDirectory;
        // The source weights (never earlier fine-tuned ones) and the plan exactly as the build resolves it.
        var inputs = ProjectInputs.Resolve(request.Build);
        var options = FineTuneOptions.Parse(request.Settings, request.Build.ProjectFile);
        var config = inputs.Config;
        var bits = inputs.Plan.Bits;
        var plan = FineTuneManifest.EffectivePlan(config, bits);
        cancellation.ThrowIfCancellationRequested();

        progress("fine-tune: calibrating and quantizing " + config.Name + " for the plan " + PlanText(plan));
        var source = new ModelEvaluation(config, inputs.Weights, cancellation);
        var before = source.Evaluate(source.Quantize(bits));
        var (result, after) = Tune(source, bits, options, e => progress("fine-tune: " + EpochText(e)), cancellation);

        byte[] weights = SafeTensors.Serialize(result.Weights.ToTensors());
        var manifest = new FineTuneManifest(config.Name, Path.GetRelativePath(projectDirectory, config.WeightsPath).Replace('\\', '/'),
            FineTuneManifest.Sha256(config.WeightsPath), FineTuneManifest.Sha256(weights), plan,
            options.Epochs, result.BestEpoch, options.LearningRate, options.ValidationPercent, result.TrainingWindows, result.ValidationWindows,
            result.ValidationMseBefore, result.ValidationMseAfter, before.FloatVsTarget.Mse, before.IntegerVsTarget.Mse, after.IntegerVsTarget.Mse);
        FineTunedWeights.Write(projectDirectory, weights, manifest.ToJson());

        string outcome = result.BestEpoch == 0 ? "no epoch beat the source weights on validation; the file holds the source weights"
            : $"best epoch {result.BestEpoch} of {options.Epochs}";
        return string.Create(CultureInfo.InvariantCulture,
            $"fine-tune: {outcome}; validation MSE {result.ValidationMseBefore:G4} → {result.ValidationMseAfter:G4}, " +
            $"test MSE {before.IntegerVsTarget.Mse:G4} → {after.IntegerVsTarget.Mse:G4} (float {before.FloatVsTarget.Mse:G4}) over {after.Targets.Length} windows\n") +
            $"fine-tune: wrote {FineTunedWeights.WeightsPath(projectDirectory)} and {FineTunedWeights.ManifestFileName}; builds use them while the plan and {Path.GetFileName(config.WeightsPath)} stay as they are";
    }

    /// <summary>
    /// Fine-tunes <paramref name="source"/>'s weights for <paramref name="bits"/> and simulates the tuned weights on the test set,
    /// calibrated and quantized as a build of them does: what FpgaFineTune writes and reports, and FpgaExploreFineTune reports.
    /// </summary>
    public static FineTunedPlan Tune(ModelEvaluation source, Func<string, LayerBits> bits, FineTuneOptions options,
        Action<FineTuneEpoch>? progress = null, CancellationToken cancellation = default)
    {
        var result = QuantizationAwareTraining.Run(source, bits, options, progress, cancellation);
        var tuned = new ModelEvaluation(source.Config, result.Weights, cancellation);
        var test = tuned.Evaluate(tuned.Quantize(bits));
        cancellation.ThrowIfCancellationRequested();
        return new FineTunedPlan(result, test);
    }

    /// <summary>One epoch's progress line (after the caller's prefix).</summary>
    public static string EpochText(FineTuneEpoch e) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {e.Epoch}/{e.Epochs}: training MSE {e.TrainingMse:G4}, validation MSE (integer simulator) {e.ValidationMse:G4}; best {e.BestValidationMse:G4} at epoch {e.BestEpoch}");

    /// <summary>"(uniform W8/A8)" when every layer has the same bits, else "(17 layers, mixed bits)".</summary>
    private static string PlanText(IReadOnlyList<PlannedBits> plan)
    {
        var weightBits = plan.Where(p => p.WeightBits is not null).Select(p => p.WeightBits!.Value).Distinct().ToList();
        var activationBits = plan.Select(p => p.ActivationBits).Distinct().ToList();
        return weightBits.Count == 1 && activationBits.Count == 1
            ? string.Create(CultureInfo.InvariantCulture, $"(uniform W{weightBits[0]}/A{activationBits[0]})")
            : string.Create(CultureInfo.InvariantCulture, $"({plan.Count} layers, mixed bits)");
    }
}
