using System.Globalization;
using TransformerFpga.Diagnostics;
using TransformerFpga.Hardware;
using TransformerFpga.Integer;
using TransformerFpga.Model;

namespace TransformerFpga.Pipeline;

/// <summary>
/// A project's inputs resolved and validated as the build does it (the same checks and TFPGA codes):
/// the one TransformerModel, the part, clock and utilization limit, the model and its weights, and the
/// plan of the project's items. Used by FpgaExplore, which starts from the same inputs as the build.
/// </summary>
public sealed record ProjectInputs(ModelConfig Config, TransformerWeights Weights, Device Device, string Part, double ClockMHz, double LimitPercent,
    LayerPlan Plan, string TopName)
{
    /// <summary>Which weights the build uses when it is not the source weights file (the fine-tuned ones); null otherwise.</summary>
    public string? WeightsNote { get; init; }
    /// <summary>TFPGA051 when fine-tuned weights beside the project do not apply to this plan or these source weights.</summary>
    public IReadOnlyList<FpgaDiagnostic> Diagnostics { get; init; } = [];

    /// <param name="fineTunedWeights">
    /// Use fpga-finetuned.safetensors when its manifest matches the plan and the source weights (the build); false
    /// keeps the source weights (FpgaFineTune tunes from them; FpgaExplore varies the plan the tuned weights are for).
    /// </param>
    public static ProjectInputs Resolve(BuildRequest request, bool fineTunedWeights = false)
    {
        string projectFile = request.ProjectFile;
        if (request.ModelItems.Count != 1)
            throw new FpgaException(ErrorCodes.ModelItemCount, projectFile,
                request.ModelItems.Count == 0
                    ? "no TransformerModel item; add <TransformerModel Include=\"model/forecaster.json\" /> to the project"
                    : $"{request.ModelItems.Count} TransformerModel items ({string.Join(", ", request.ModelItems)}); a project builds exactly one model");
        var settings = request.Settings;
        var device = Device.FromPart(settings.Part, projectFile);
        double clock = ParsePositive(settings.ClockMHz, "FpgaClockMHz", projectFile, 1000);
        double limit = ParsePositive(settings.UtilizationLimitPercent, "FpgaUtilizationLimitPercent", projectFile, 100);
        var architectureWarnings = CheckArchitecture(request);

        string modelPath = Path.GetFullPath(Path.Combine(request.ProjectDirectory, request.ModelItems[0]));
        if (!ModelLoader.IsInside(modelPath, request.ProjectDirectory))
            throw new FpgaException(ErrorCodes.PathOutsideProject, projectFile, $"TransformerModel '{request.ModelItems[0]}' lies outside the project folder; keep model files inside the project");
        var config = ModelLoader.LoadConfig(modelPath, request.ProjectDirectory);
        var weights = TransformerWeights.Load(config);
        var plan = LayerPlan.Resolve(IntegerTransformer.LayerNames(config), request, projectFile);
        string topName = string.IsNullOrWhiteSpace(settings.TopName) ? config.Name : settings.TopName;
        if (!fineTunedWeights) return new ProjectInputs(config, weights, device, settings.Part, clock, limit, plan, topName) { Diagnostics = architectureWarnings };
        var choice = FineTuning.FineTunedWeights.Choose(request.ProjectDirectory, config, plan.Bits, weights);
        return new ProjectInputs(config, choice.Weights, device, settings.Part, clock, limit, plan, topName)
        {
            WeightsNote = choice.Note,
            Diagnostics = [.. architectureWarnings, .. choice.Warning is null ? [] : new[] { choice.Warning }],
        };
    }

    /// <summary>
    /// This version builds the per-layer architecture: FpgaArchitecture=Engine is an error (TFPGA033) rather than a
    /// setting the design would silently ignore;
    /// FpgaEngineLanes without the Engine is a warning (TFPGA050).
    /// </summary>
    private static IReadOnlyList<FpgaDiagnostic> CheckArchitecture(BuildRequest request)
    {
        string projectFile = request.ProjectFile, architecture = request.Settings.Architecture.Trim();
        if (architecture.Equals("Engine", StringComparison.OrdinalIgnoreCase))
            throw new FpgaException(ErrorCodes.NotAvailable, projectFile,
                "FpgaArchitecture is 'Engine' (one shared pipelined datapath), which this version does not build yet; remove the property or set it to Layers (one datapath per layer)");
        if (architecture.Length > 0 && !architecture.Equals("Layers", StringComparison.OrdinalIgnoreCase))
            throw new FpgaException(ErrorCodes.InvalidProperty, projectFile, $"FpgaArchitecture is '{architecture}'; use Layers (one datapath per layer)");
        string lanes = request.Settings.EngineLanes.Trim();
        if (lanes.Length == 0) return [];
        if (!int.TryParse(lanes, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < 1)
            throw new FpgaException(ErrorCodes.InvalidProperty, projectFile, $"FpgaEngineLanes is '{lanes}'; use a whole number of MAC lanes of at least 1");
        return [new FpgaDiagnostic(Severity.Warning, ErrorCodes.SettingWithoutEffect, projectFile, 0, $"FpgaEngineLanes is {value}, which has no effect: it sets the lanes of the Engine architecture, and this design is Layers (set lanes per layer with LayerParallelism items or FpgaDefaultLanes)")];
    }

    private static double ParsePositive(string raw, string property, string projectFile, double max)
    {
        if (!double.TryParse(raw.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value > 0) || value > max)
            throw new FpgaException(ErrorCodes.InvalidProperty, projectFile, $"{property} is '{raw}'; use a number greater than 0 and at most {max.ToString(CultureInfo.InvariantCulture)}");
        return value;
    }
}
