using System.Text.Json;
using System.Text.Json.Serialization;

namespace TransformerFpga.Hardware;

/// <summary>Per module kind, the coefficients of the LUT, FF and LUT-RAM models over the kind's features.</summary>
public sealed class KindCoefficients
{
    public double[] Lut { get; set; } = [];
    public double[] Ff { get; set; } = [];
    public double[] LutRam { get; set; } = [];
}

/// <summary>
/// The fitted coefficients of the resource model. The product ships coefficients fitted to Yosys
/// synthesis of generated designs (embedded resource-coefficients.json); a project can refit them
/// from Vivado's hierarchical utilization report (fpga-calibration.json beside the project).
/// </summary>
public sealed class ResourceCoefficients
{
    public string Source { get; set; } = "";
    public Dictionary<string, KindCoefficients> Kinds { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Per resource, the estimate's error left by the calibration that wrote these coefficients (%); null for the shipped ones (see <see cref="EstimateError"/>).</summary>
    public Dictionary<string, double>? ErrorPercent { get; set; }

    public KindCoefficients For(ModuleKind kind) => Kinds.TryGetValue(kind.ToString(), out var c) ? c : new KindCoefficients();

    public static ResourceCoefficients Default { get; } = LoadEmbedded();

    private static ResourceCoefficients LoadEmbedded()
    {
        using var stream = typeof(ResourceCoefficients).Assembly.GetManifestResourceStream("TransformerFpga.Hardware.resource-coefficients.json");
        return stream is null ? new ResourceCoefficients() : JsonSerializer.Deserialize(stream, CoefficientsJsonContext.Default.ResourceCoefficients) ?? new ResourceCoefficients();
    }

    public string ToJson() => JsonSerializer.Serialize(this, CoefficientsJsonContext.Default.ResourceCoefficients);

    public static ResourceCoefficients FromJson(string json) =>
        JsonSerializer.Deserialize(json, CoefficientsJsonContext.Default.ResourceCoefficients) ?? new ResourceCoefficients();
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(ResourceCoefficients))]
internal partial class CoefficientsJsonContext : JsonSerializerContext;
