using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TransformerFpga.Integer;
using TransformerFpga.Model;

namespace TransformerFpga.FineTuning;

/// <summary>The bits of one layer that the integer model reads; WeightBits is null where the layer has no weights.</summary>
public sealed record PlannedBits(string Layer, int? WeightBits, int ActivationBits)
{
    public override string ToString() => WeightBits is { } w
        ? string.Create(CultureInfo.InvariantCulture, $"{Layer} W{w}/A{ActivationBits}")
        : string.Create(CultureInfo.InvariantCulture, $"{Layer} A{ActivationBits}");
}

/// <summary>
/// fpga-finetuned.json: what fpga-finetuned.safetensors was tuned for (the plan's effective bits and the source
/// weights' SHA-256), the SHA-256 of the tuned file itself, how it was tuned and what it measured. No time or
/// machine figures, so that the same inputs write the same bytes.
/// </summary>
public sealed record FineTuneManifest(
    string Model,
    string SourceWeights,
    string SourceWeightsSha256,
    string FineTunedWeightsSha256,
    IReadOnlyList<PlannedBits> Plan,
    int Epochs,
    int BestEpoch,
    double LearningRate,
    double ValidationPercent,
    int TrainingWindows,
    int ValidationWindows,
    double ValidationMseBefore,
    double ValidationMseAfter,
    double FloatTestMse,
    double TestMseBefore,
    double TestMseAfter)
{
    public const string Format = "transformer-fpga-finetune/1";

    /// <summary>
    /// The bits the integer model reads from a plan, layer by layer: weight bits of the linear layers only (other
    /// layers have none, the norms keep 16-bit gains), no entry for the ReLU fused into fc1. Settings without effect
    /// therefore do not make fine-tuned weights stale.
    /// </summary>
    public static IReadOnlyList<PlannedBits> EffectivePlan(ModelConfig config, Func<string, LayerBits> bits) =>
        IntegerTransformer.LayerNames(config).Where(n => !n.EndsWith(".ffn.relu", StringComparison.Ordinal))
            .Select(n => new PlannedBits(n, IntegerTransformer.HasWeights(n) ? bits(n).WeightBits : null, bits(n).ActivationBits)).ToList();

    public static string Sha256(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }

    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("format", Format);
            json.WriteString("model", Model);
            json.WriteString("source_weights", SourceWeights);
            json.WriteString("source_weights_sha256", SourceWeightsSha256);
            json.WriteString("finetuned_weights_sha256", FineTunedWeightsSha256);
            json.WriteStartArray("plan");
            foreach (var layer in Plan)
            {
                json.WriteStartObject();
                json.WriteString("layer", layer.Layer);
                if (layer.WeightBits is { } w) json.WriteNumber("weight_bits", w);
                json.WriteNumber("activation_bits", layer.ActivationBits);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteNumber("epochs", Epochs);
            json.WriteNumber("best_epoch", BestEpoch);
            json.WriteNumber("learning_rate", LearningRate);
            json.WriteNumber("validation_percent", ValidationPercent);
            json.WriteNumber("training_windows", TrainingWindows);
            json.WriteNumber("validation_windows", ValidationWindows);
            json.WriteStartObject("validation_mse");
            json.WriteNumber("before", ValidationMseBefore);
            json.WriteNumber("after", ValidationMseAfter);
            json.WriteEndObject();
            json.WriteStartObject("test_mse");
            json.WriteNumber("float", FloatTestMse);
            json.WriteNumber("before", TestMseBefore);
            json.WriteNumber("after", TestMseAfter);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()).Replace("\r\n", "\n", StringComparison.Ordinal) + "\n";
    }

    /// <summary>The manifest in <paramref name="text"/>, or null when it is not one (malformed, another format).</summary>
    public static FineTuneManifest? Parse(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.GetProperty("format").GetString() != Format) return null;
            var plan = root.GetProperty("plan").EnumerateArray().Select(e => new PlannedBits(
                e.GetProperty("layer").GetString()!,
                e.TryGetProperty("weight_bits", out var w) ? w.GetInt32() : null,
                e.GetProperty("activation_bits").GetInt32())).ToList();
            var validation = root.GetProperty("validation_mse");
            var test = root.GetProperty("test_mse");
            return new FineTuneManifest(
                root.GetProperty("model").GetString()!, root.GetProperty("source_weights").GetString()!,
                root.GetProperty("source_weights_sha256").GetString()!, root.GetProperty("finetuned_weights_sha256").GetString()!, plan,
                root.GetProperty("epochs").GetInt32(), root.GetProperty("best_epoch").GetInt32(), root.GetProperty("learning_rate").GetDouble(),
                root.GetProperty("validation_percent").GetDouble(), root.GetProperty("training_windows").GetInt32(), root.GetProperty("validation_windows").GetInt32(),
                validation.GetProperty("before").GetDouble(), validation.GetProperty("after").GetDouble(),
                test.GetProperty("float").GetDouble(), test.GetProperty("before").GetDouble(), test.GetProperty("after").GetDouble());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}
