using System.Text.Json.Serialization;

namespace TransformerFpga.Model;

/// <summary>The model JSON as written by the user; validated into <see cref="ModelConfig"/>.</summary>
public sealed class ModelDocument
{
    public string? Format { get; set; }
    public string? Name { get; set; }
    public string? Weights { get; set; }
    public int? Window { get; set; }
    public int? InputFeatures { get; set; }
    public int? OutputFeatures { get; set; }
    public int? DModel { get; set; }
    public int? Heads { get; set; }
    public int? FfnDim { get; set; }
    public int? EncoderLayers { get; set; }
    public string? Norm { get; set; }
    public string? Activation { get; set; }
    public string? PositionalEncoding { get; set; }
    public string? Pooling { get; set; }
    public DataDocument? Data { get; set; }
}

public sealed class DataDocument
{
    public string? Calibration { get; set; }
    public string? Test { get; set; }
    public List<string>? InputColumns { get; set; }
    public List<string>? TargetColumns { get; set; }
    public NormalizationDocument? Normalization { get; set; }
}

public sealed class NormalizationDocument
{
    public List<double>? Mean { get; set; }
    public List<double>? Std { get; set; }
    /// <summary>Only needed when a target column is not an input column.</summary>
    public List<double>? TargetMean { get; set; }
    public List<double>? TargetStd { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(ModelDocument))]
[JsonSerializable(typeof(string))]
internal partial class ModelJsonContext : JsonSerializerContext;
