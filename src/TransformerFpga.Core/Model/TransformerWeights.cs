using System.Text.RegularExpressions;
using TransformerFpga.Diagnostics;

namespace TransformerFpga.Model;

/// <summary>A linear layer's float weights in PyTorch layout: W is [Out, In] row-major.</summary>
public sealed record LinearWeights(int Out, int In, float[] W, float[] B);

/// <summary>Norm parameters; RunningMean/RunningVar are set for batch norm only.</summary>
public sealed record NormWeights(float[] Weight, float[] Bias, float[]? RunningMean, float[]? RunningVar);

public sealed record EncoderWeights(
    LinearWeights Q, LinearWeights K, LinearWeights V, LinearWeights Out,
    NormWeights Norm1, LinearWeights Fc1, LinearWeights Fc2, NormWeights Norm2);

/// <summary>All float parameters of the model, under the canonical names of SPEC §4.</summary>
public sealed record TransformerWeights(LinearWeights Embedding, EncoderWeights[] Encoders, LinearWeights Head)
{
    public static TransformerWeights Load(ModelConfig config) =>
        FromTensors(config, SafeTensors.Read(config.WeightsPath), config.WeightsPath);

    /// <summary>Maps PyTorch nn.TransformerEncoderLayer names onto canonical ones, then reads every tensor.</summary>
    public static TransformerWeights FromTensors(ModelConfig config, IReadOnlyDictionary<string, Tensor> raw, string path)
    {
        var tensors = Canonicalize(raw);
        int d = config.DModel;

        Tensor Get(string name, params int[] shape)
        {
            if (!tensors.TryGetValue(name, out var t))
                throw new FpgaException(ErrorCodes.TensorMissingOrShape, path, $"tensor '{name}' is missing (expected shape [{string.Join(", ", shape)}]); see SPEC §4 for the names");
            if (t.Dtype != "F32")
                throw new FpgaException(ErrorCodes.TensorDtype, path, $"tensor '{name}' has dtype {t.Dtype}; only F32 (float32) is supported — convert with tensor.float() before saving");
            if (!t.Shape.SequenceEqual(shape))
                throw new FpgaException(ErrorCodes.TensorMissingOrShape, path, $"tensor '{name}' has shape {t.ShapeText}, expected [{string.Join(", ", shape)}] for this model JSON");
            for (int i = 0; i < t.Data.Length; i++)
                if (!float.IsFinite(t.Data[i]))
                    throw new FpgaException(ErrorCodes.TensorNotFinite, path, $"tensor '{name}' holds a non-finite value ({t.Data[i]}) at element {i}; retrain or clean the weights");
            return t;
        }
        LinearWeights Linear(string prefix, int output, int input) =>
            new(output, input, Get(prefix + ".weight", output, input).Data, Get(prefix + ".bias", output).Data);
        NormWeights Norm(string prefix) => new(
            Get(prefix + ".weight", d).Data, Get(prefix + ".bias", d).Data,
            config.Norm == NormKind.Batch ? Get(prefix + ".running_mean", d).Data : null,
            config.Norm == NormKind.Batch ? CheckVariance(Get(prefix + ".running_var", d), prefix + ".running_var", path) : null);

        var embedding = Linear("embedding", d, config.InputFeatures);
        var encoders = new EncoderWeights[config.EncoderLayers];
        for (int i = 0; i < encoders.Length; i++)
        {
            string p = $"encoder.{i}.";
            encoders[i] = new EncoderWeights(
                Linear(p + "attn.q", d, d), Linear(p + "attn.k", d, d), Linear(p + "attn.v", d, d), Linear(p + "attn.out", d, d),
                Norm(p + "norm1"), Linear(p + "ffn.fc1", config.FfnDim, d), Linear(p + "ffn.fc2", d, config.FfnDim), Norm(p + "norm2"));
        }
        var head = Linear("head", config.OutputFeatures, d);
        return new TransformerWeights(embedding, encoders, head);
    }

    private static float[] CheckVariance(Tensor t, string name, string path)
    {
        if (t.Data.Any(v => v < 0))
            throw new FpgaException(ErrorCodes.TensorNotFinite, path, $"tensor '{name}' holds a negative variance");
        return t.Data;
    }

    // "<anything>.<i>.self_attn.in_proj_weight" and friends, as nn.TransformerEncoder(Layer) saves them.
    private static readonly Regex PyTorchEncoderName = new(
        @"^(?:.*\.)?(?<layer>\d+)\.(?<name>self_attn\.in_proj_weight|self_attn\.in_proj_bias|self_attn\.out_proj\.weight|self_attn\.out_proj\.bias|linear1\.weight|linear1\.bias|linear2\.weight|linear2\.bias|(?:norm1|norm2)\.(?:weight|bias|running_mean|running_var))$",
        RegexOptions.CultureInvariant);

    internal static Dictionary<string, Tensor> Canonicalize(IReadOnlyDictionary<string, Tensor> raw)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in raw)
        {
            var m = PyTorchEncoderName.Match(name);
            if (!m.Success || name.StartsWith("encoder." + m.Groups["layer"].Value + ".attn.", StringComparison.Ordinal))
            {
                result.TryAdd(name, tensor);
                continue;
            }
            string p = "encoder." + int.Parse(m.Groups["layer"].Value, System.Globalization.CultureInfo.InvariantCulture) + ".";
            switch (m.Groups["name"].Value)
            {
                case "self_attn.in_proj_weight": SplitInProjection(result, p, ".weight", tensor); break;
                case "self_attn.in_proj_bias": SplitInProjection(result, p, ".bias", tensor); break;
                case var n when n.StartsWith("self_attn.out_proj.", StringComparison.Ordinal): result[p + "attn.out." + n["self_attn.out_proj.".Length..]] = tensor; break;
                case var n when n.StartsWith("linear1.", StringComparison.Ordinal): result[p + "ffn.fc1." + n["linear1.".Length..]] = tensor; break;
                case var n when n.StartsWith("linear2.", StringComparison.Ordinal): result[p + "ffn.fc2." + n["linear2.".Length..]] = tensor; break;
                case var n: result[p + n] = tensor; break;
            }
        }
        return result;
    }

    /// <summary>in_proj stacks Q, K and V along the first dimension: [3d, d] or [3d].</summary>
    private static void SplitInProjection(Dictionary<string, Tensor> result, string prefix, string suffix, Tensor t)
    {
        if (t.Shape.Length == 0 || t.Shape[0] % 3 != 0 || t.Dtype != "F32")
        {
            result[prefix + "attn.q" + suffix] = t; // reported as a shape/dtype error when looked up
            return;
        }
        int rows = t.Shape[0] / 3;
        int stride = t.Data.Length / 3;
        var shape = t.Shape.ToArray();
        shape[0] = rows;
        string[] parts = ["q", "k", "v"];
        for (int i = 0; i < 3; i++)
            result[prefix + "attn." + parts[i] + suffix] = new Tensor(shape, t.Data.AsSpan(i * stride, stride).ToArray());
    }
}
