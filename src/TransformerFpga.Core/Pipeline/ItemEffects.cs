using TransformerFpga.Diagnostics;
using TransformerFpga.Hdl;
using TransformerFpga.Integer;
using TransformerFpga.Layers;
using TransformerFpga.Layers.Linear;
using TransformerFpga.Layers.Norm;

namespace TransformerFpga.Pipeline;

/// <summary>
/// Warns (TFPGA050) about an item setting that changes none of the layers it selects, such as WeightBits on
/// the softmax or anything on the ReLU fused into ffn.fc1: the project says something the design ignores.
/// A setting that changes at least one selected layer is fine (`encoder0.ffn` also selects the ReLU).
/// </summary>
public static class ItemEffects
{
    public static IReadOnlyList<FpgaDiagnostic> Check(IntegerTransformer model, LayerPlan plan, string projectFile)
    {
        var byName = model.Layers.ToDictionary(l => l.Name, StringComparer.Ordinal);
        var engine = plan.Engine is not null ? Engine.MacEngine.For(model, plan) : null;
        var warnings = new List<FpgaDiagnostic>();
        foreach (var setting in plan.ItemSettings)
        {
            var layers = setting.Layers.Select(n => byName[n]).ToList();
            if (layers.Any(l => Changes(setting.ItemType, setting.Metadata, l, engine))) continue;
            string reasons = string.Join("; ", layers.Select(l => l.Name + " " + WhyNot(setting.ItemType, setting.Metadata, l, engine)));
            warnings.Add(new FpgaDiagnostic(Severity.Warning, ErrorCodes.SettingWithoutEffect, projectFile,
                LayerPlan.ItemLine(projectFile, setting.ItemType, setting.Identity),
                $"{setting.ItemType} '{setting.Identity}' sets {setting.Metadata}, which has no effect: {reasons}"));
        }
        return warnings;
    }

    /// <summary>Whether a metadata of a LayerPrecision, BufferResource, LayerParallelism or WeightResource item changes the layer's hardware or arithmetic.</summary>
    /// <param name="engine">The design's shared MAC engine: its layers take their lanes and multipliers from it.</param>
    public static bool Changes(string itemType, string metadata, QuantizedLayer layer, Engine.MacEngine? engine = null)
    {
        if (!HardwareModel.HasHardware(layer)) return false;
        if (engine?.JobOf(layer) is { } onEngine && itemType == "WeightResource") return onEngine.Weights is not null;
        if (engine?.JobOf(layer) is not null && metadata is "Lanes" or "Multiplier") return false;
        if (itemType == "BufferResource" && !Stored(layer, engine)) return false;
        if (engine?.WriteBackOf(layer) is not null && metadata is "Lanes" or "Multiplier") return false;
        // Only the linear layers have a weight ROM (the norms' gains and the tables are small and stay where synthesis puts them).
        if (itemType == "WeightResource") return layer.Datapath?.HasWeightRom ?? false;
        return metadata switch
        {
            // The norms keep full-width gains whatever WeightBits says; only the linear layers' weights follow it.
            "WeightBits" => layer is LinearLayer,
            "Lanes" => HardwareModel.HasLanes(layer),
            // The norms' multipliers are a mapping choice of their own, even where their template does not offer it yet.
            "Multiplier" => HardwareModel.HasLanes(layer) || layer is BatchNormLayer or LayerNormLayer,
            _ => true,
        };
    }

    /// <summary>Whether the layer's output is kept in a buffer: not where the engine passes it on to the write-back layer after it.</summary>
    private static bool Stored(QuantizedLayer layer, Engine.MacEngine? engine) =>
        engine is null || (engine.JobOf(layer) ?? engine.WriteBackOf(layer)) is not { } job || job.Writes == layer;

    private static string WhyNot(string itemType, string metadata, QuantizedLayer layer, Engine.MacEngine? engine) =>
        !HardwareModel.HasHardware(layer) ? $"is fused into {layer.BufferOwner.Name} and takes its settings; set them on {layer.BufferOwner.Name}"
        : itemType == "BufferResource" && !Stored(layer, engine)
            ? $"passes its output to {WrittenBy(layer, engine!).Name} in the engine's write-back, which keeps no buffer of it; set the memory on {WrittenBy(layer, engine!).Name}"
        : engine?.WriteBackOf(layer) is { } job ? $"runs in the write-back of {job.Layer.Name} on the shared MAC engine"
        : itemType == "WeightResource" ? "has no weight ROM"
        : engine?.JobOf(layer) is not null ? "runs on the shared MAC engine, whose lanes FpgaEngineLanes sets"
        : metadata switch
        {
            "WeightBits" => layer is BatchNormLayer or LayerNormLayer ? "keeps its 16-bit gains" : "has no weights",
            "Lanes" => "has no MAC lanes",
            "Multiplier" => "has no MAC multipliers",
            _ => "ignores it",
        };

    /// <summary>The layer whose buffer the engine job that runs <paramref name="layer"/> (or its write-back) writes.</summary>
    private static QuantizedLayer WrittenBy(QuantizedLayer layer, Engine.MacEngine engine) => (engine.JobOf(layer) ?? engine.WriteBackOf(layer))!.Writes;
}
