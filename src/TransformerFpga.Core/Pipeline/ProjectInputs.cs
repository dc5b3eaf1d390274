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

        string modelPath = Path.GetFullPath(Path.Combine(request.ProjectDirectory, request.ModelItems[0]));
        if (!ModelLoader.IsInside(modelPath, request.ProjectDirectory))
            throw new FpgaException(ErrorCodes.PathOutsideProject, projectFile, $"TransformerModel '{request.ModelItems[0]}' lies outside the project folder; keep model files inside the project");
        var config = ModelLoader.LoadConfig(modelPath, request.ProjectDirectory);
        var weights = TransformerWeights.Load(config);
        var (engine, architectureWarnings) = Architecture(request, config);
        var plan = LayerPlan.Resolve(IntegerTransformer.LayerNames(config), request, projectFile).WithEngine(engine);
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
    /// FpgaArchitecture: Engine (the default: one shared MAC engine, whose lanes FpgaEngineLanes sets: a power of two
    /// that divides the model's head dimension and FFN width; by default the largest such up to
    /// <see cref="Engine.MacEngine.DefaultMaxLanes"/>) or Layers (one datapath per layer). FpgaEngineLanes without the
    /// Engine is a warning (TFPGA050).
    /// </summary>
    private static (EngineSettings? Engine, IReadOnlyList<FpgaDiagnostic> Warnings) Architecture(BuildRequest request, ModelConfig config)
    {
        string projectFile = request.ProjectFile, architecture = request.Settings.Architecture.Trim();
        bool engine = architecture.Equals("Engine", StringComparison.OrdinalIgnoreCase);
        if (architecture.Length > 0 && !engine && !architecture.Equals("Layers", StringComparison.OrdinalIgnoreCase))
            throw new FpgaException(ErrorCodes.InvalidProperty, projectFile, $"FpgaArchitecture is '{architecture}'; use Layers (one datapath per layer) or Engine (one shared MAC engine)");
        string lanes = request.Settings.EngineLanes.Trim();
        int? value = null;
        if (lanes.Length > 0)
        {
            if (!int.TryParse(lanes, NumberStyles.None, CultureInfo.InvariantCulture, out int parsed) || parsed < 1 || parsed > LayerPlan.MaxLanes)
                throw new FpgaException(ErrorCodes.InvalidProperty, projectFile, $"FpgaEngineLanes is '{lanes}'; use a whole number of MAC lanes from 1 to {LayerPlan.MaxLanes}");
            value = parsed;
        }
        if (!engine)
            return (null, value is null ? [] : [new FpgaDiagnostic(Severity.Warning, ErrorCodes.SettingWithoutEffect, projectFile, 0, $"FpgaEngineLanes is {value}, which has no effect: it sets the lanes of the Engine architecture, and this design is Layers (set lanes per layer with LayerParallelism items or FpgaDefaultLanes)")]);
        var valid = Engine.MacEngine.ValidLanes(config);
        if (value is int explicitLanes && !valid.Contains(explicitLanes))
            throw new FpgaException(ErrorCodes.InvalidLanes, projectFile,
                $"FpgaEngineLanes is {explicitLanes}; the engine's lanes must be a power of two that divides the head dimension ({config.HeadDim}) and the FFN width ({config.FfnDim}): use one of {string.Join(", ", valid)}");
        return (value is int set ? new EngineSettings(set) : new EngineSettings(valid.Where(l => l <= Engine.MacEngine.DefaultMaxLanes).Max(), LanesExplicit: false), []);
    }

    private static double ParsePositive(string raw, string property, string projectFile, double max)
    {
        if (!double.TryParse(raw.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value > 0) || value > max)
            throw new FpgaException(ErrorCodes.InvalidProperty, projectFile, $"{property} is '{raw}'; use a number greater than 0 and at most {max.ToString(CultureInfo.InvariantCulture)}");
        return value;
    }
}
