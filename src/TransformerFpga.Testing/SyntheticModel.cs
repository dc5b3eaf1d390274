using System.Globalization;
using System.Text;
using System.Text.Json;

namespace TransformerFpga.Model;

/// <summary>Architecture of a generated model; sizes as in the model JSON.</summary>
public sealed record SyntheticModelSpec(
    int Window = 8, int InputFeatures = 2, int OutputFeatures = 1, int DModel = 8, int Heads = 1, int FfnDim = 16,
    int EncoderLayers = 1, string Norm = "batch", int Rows = 200, string Name = "synthetic");

/// <summary>
/// Writes a complete model folder (JSON, random float32 weights, a smooth multivariate CSV series)
/// from a seed: the same seed gives the same bytes. Used to try the flow and by the tests and benchmarks.
/// </summary>
public static class SyntheticModel
{
    /// <returns>The path of the model JSON.</returns>
    public static string Write(string directory, SyntheticModelSpec spec, int seed, bool pytorchNames = false)
    {
        Directory.CreateDirectory(directory);
        var random = new Random(seed);
        int d = spec.DModel;
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        float Uniform(double bound) => (float)((random.NextDouble() * 2 - 1) * bound);
        Tensor Random(double bound, params int[] shape) => new(shape, Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(_ => Uniform(bound)).ToArray());
        void Linear(string name, int output, int input)
        {
            tensors[name + ".weight"] = Random(1.0 / Math.Sqrt(input), output, input);
            tensors[name + ".bias"] = Random(0.1, output);
        }
        void Norm(string name)
        {
            tensors[name + ".weight"] = new Tensor([d], Enumerable.Range(0, d).Select(_ => 1f + Uniform(0.3)).ToArray());
            tensors[name + ".bias"] = Random(0.2, d);
            if (spec.Norm == "batch")
            {
                tensors[name + ".running_mean"] = Random(0.3, d);
                tensors[name + ".running_var"] = new Tensor([d], Enumerable.Range(0, d).Select(_ => 0.5f + (float)random.NextDouble()).ToArray());
            }
        }
        Linear("embedding", d, spec.InputFeatures);
        for (int e = 0; e < spec.EncoderLayers; e++)
        {
            string p = $"encoder.{e}.";
            foreach (var part in new[] { "q", "k", "v" }) Linear(p + "attn." + part, d, d);
            // Larger Q/K weights give peaked attention, which exercises the softmax table.
            tensors[p + "attn.q.weight"] = Random(2.0 / Math.Sqrt(d), d, d);
            Linear(p + "attn.out", d, d);
            Norm(p + "norm1");
            Linear(p + "ffn.fc1", spec.FfnDim, d);
            Linear(p + "ffn.fc2", d, spec.FfnDim);
            Norm(p + "norm2");
        }
        Linear("head", spec.OutputFeatures, d);
        if (pytorchNames) tensors = ToPyTorchNames(tensors, spec.EncoderLayers);
        File.WriteAllBytes(Path.Combine(directory, spec.Name + ".safetensors"), SafeTensors.Serialize(tensors));

        var columns = Enumerable.Range(0, spec.InputFeatures).Select(i => "x" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var targets = columns.Take(spec.OutputFeatures).ToArray();
        if (targets.Length < spec.OutputFeatures)
            throw new ArgumentException("OutputFeatures must not exceed InputFeatures for a synthetic model (targets are input columns)");
        var csv = new StringBuilder("time," + string.Join(",", columns) + "\n");
        var phase = Enumerable.Range(0, spec.InputFeatures).Select(_ => random.NextDouble() * Math.PI * 2).ToArray();
        var level = new double[spec.InputFeatures];
        for (int t = 0; t < spec.Rows; t++)
        {
            csv.Append(t.ToString(CultureInfo.InvariantCulture));
            for (int f = 0; f < spec.InputFeatures; f++)
            {
                level[f] = 0.95 * level[f] + 0.3 * (random.NextDouble() - 0.5);
                double value = 10 * f + 3 * Math.Sin(2 * Math.PI * t / 24 + phase[f]) + level[f];
                csv.Append(',').Append(Math.Round(value, 3).ToString("R", CultureInfo.InvariantCulture));
            }
            csv.Append('\n');
        }
        File.WriteAllText(Path.Combine(directory, spec.Name + ".csv"), csv.ToString());

        var json = new StringBuilder();
        json.Append("{\n");
        json.Append("  \"format\": \"transformer-fpga/1\",\n");
        json.Append($"  \"name\": {JsonSerializer.Serialize(spec.Name, ModelJsonContext.Default.String)},\n");
        json.Append($"  \"weights\": \"{spec.Name}.safetensors\",\n");
        json.Append(string.Create(CultureInfo.InvariantCulture, $"  \"window\": {spec.Window}, \"inputFeatures\": {spec.InputFeatures}, \"outputFeatures\": {spec.OutputFeatures},\n"));
        json.Append(string.Create(CultureInfo.InvariantCulture, $"  \"dModel\": {d}, \"heads\": {spec.Heads}, \"ffnDim\": {spec.FfnDim}, \"encoderLayers\": {spec.EncoderLayers},\n"));
        json.Append($"  \"norm\": \"{spec.Norm}\", \"activation\": \"relu\", \"positionalEncoding\": \"sinusoidal\", \"pooling\": \"average\",\n");
        json.Append($"  \"data\": {{ \"calibration\": \"{spec.Name}.csv\", \"test\": \"{spec.Name}.csv\",\n");
        json.Append($"            \"inputColumns\": [{string.Join(", ", columns.Select(c => "\"" + c + "\""))}], \"targetColumns\": [{string.Join(", ", targets.Select(c => "\"" + c + "\""))}] }}\n");
        json.Append("}\n");
        string path = Path.Combine(directory, spec.Name + ".json");
        File.WriteAllText(path, json.ToString());
        return path;
    }

    /// <summary>Renames canonical encoder tensors to nn.TransformerEncoder's state_dict names.</summary>
    private static Dictionary<string, Tensor> ToPyTorchNames(Dictionary<string, Tensor> canonical, int layers)
    {
        var result = new Dictionary<string, Tensor>(canonical.Where(kv => !kv.Key.StartsWith("encoder.", StringComparison.Ordinal)), StringComparer.Ordinal);
        for (int e = 0; e < layers; e++)
        {
            string c = $"encoder.{e}.", p = $"transformer_encoder.layers.{e}.";
            foreach (var suffix in new[] { "weight", "bias" })
            {
                var parts = new[] { "q", "k", "v" }.Select(x => canonical[c + "attn." + x + "." + suffix]).ToArray();
                var shape = parts[0].Shape.ToArray();
                shape[0] *= 3;
                result[p + "self_attn.in_proj_" + suffix] = new Tensor(shape, parts.SelectMany(t => t.Data).ToArray());
                result[p + "self_attn.out_proj." + suffix] = canonical[c + "attn.out." + suffix];
                result[p + "linear1." + suffix] = canonical[c + "ffn.fc1." + suffix];
                result[p + "linear2." + suffix] = canonical[c + "ffn.fc2." + suffix];
            }
            foreach (var (key, tensor) in canonical.Where(kv => kv.Key.StartsWith(c + "norm", StringComparison.Ordinal)))
                result[p + key[c.Length..]] = tensor;
        }
        return result;
    }
}
