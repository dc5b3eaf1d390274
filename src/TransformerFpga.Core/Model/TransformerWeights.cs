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

/// <summary>All float parameters of the model, under the canonical names (embedding, encoder.{i}.…, head).</summary>
public sealed record TransformerWeights(LinearWeights Embedding, EncoderWeights[] Encoders, LinearWeights Head)
{
    /// <summary>Tensors of the weights file the model does not read, under the file's own names (ordinal order).</summary>
    public IReadOnlyList<string> UnusedTensors { get; init; } = [];

    /// <summary>Every tensor under its canonical name (batch-norm running statistics included when present).</summary>
    public Dictionary<string, Tensor> ToTensors()
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        void Linear(string prefix, LinearWeights l)
        {
            tensors[prefix + ".weight"] = new Tensor([l.Out, l.In], l.W);
            tensors[prefix + ".bias"] = new Tensor([l.Out], l.B);
        }
        void Norm(string prefix, NormWeights n)
        {
            tensors[prefix + ".weight"] = new Tensor([n.Weight.Length], n.Weight);
            tensors[prefix + ".bias"] = new Tensor([n.Bias.Length], n.Bias);
            if (n.RunningMean is not null) tensors[prefix + ".running_mean"] = new Tensor([n.RunningMean.Length], n.RunningMean);
            if (n.RunningVar is not null) tensors[prefix + ".running_var"] = new Tensor([n.RunningVar.Length], n.RunningVar);
        }
        Linear("embedding", Embedding);
        for (int i = 0; i < Encoders.Length; i++)
        {
            string p = "encoder." + i.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".";
            var e = Encoders[i];
            Linear(p + "attn.q", e.Q);
            Linear(p + "attn.k", e.K);
            Linear(p + "attn.v", e.V);
            Linear(p + "attn.out", e.Out);
            Norm(p + "norm1", e.Norm1);
            Linear(p + "ffn.fc1", e.Fc1);
            Linear(p + "ffn.fc2", e.Fc2);
            Norm(p + "norm2", e.Norm2);
        }
        Linear("head", Head);
        return tensors;
    }

    public static TransformerWeights Load(ModelConfig config) =>
        FromTensors(config, SafeTensors.Read(config.WeightsPath), config.WeightsPath);

    /// <summary>Maps PyTorch nn.TransformerEncoderLayer names onto canonical ones, then reads every tensor.</summary>
    public static TransformerWeights FromTensors(ModelConfig config, IReadOnlyDictionary<string, Tensor> raw, string path)
    {
        var (tensors, fileNames) = Canonicalize(raw);
        int d = config.DModel;
        var expected = ExpectedNames(config);
        var unused = raw.Keys.Where(name => !fileNames.Any(f => f.Value == name && expected.Contains(f.Key))).OrderBy(n => n, StringComparer.Ordinal).ToList();
        string UnusedList() => unused.Count == 0 ? "" : $"; tensors of the file this model does not use: {string.Join(", ", unused)}";

        foreach (string name in unused)
            if (IsFinalEncoderNorm(name))
                throw new FpgaException(ErrorCodes.UnsupportedTensor, path,
                    $"tensor '{name}' is a norm after the last encoder layer (nn.TransformerEncoder(norm=…)), which this product does not support yet: "
                    + "ignoring it would build a different network than the one trained; train without the final norm" + UnusedList());

        Tensor Get(string name, params int[] shape)
        {
            if (!tensors.TryGetValue(name, out var t))
                throw new FpgaException(ErrorCodes.TensorMissingOrShape, path,
                    $"tensor '{name}' is missing (expected shape [{string.Join(", ", shape)}]){PyTorchAlias(name)}; see the README's 'Bringing a PyTorch model' for the names{UnusedList()}");
            // A Q, K or V part of a stacked in_proj tensor is named by the file's tensor and its part.
            string shown = fileNames[name] + (fileNames[name].Contains("in_proj_", StringComparison.Ordinal) ? $" (its {name.Split('.')[^2].ToUpperInvariant()} third)" : "");
            if (t.Dtype != "F32")
                throw new FpgaException(ErrorCodes.TensorDtype, path, $"tensor '{shown}' has dtype {t.Dtype}; only F32 (float32) is supported — convert with tensor.float() before saving");
            if (!t.Shape.SequenceEqual(shape))
                throw new FpgaException(ErrorCodes.TensorMissingOrShape, path, $"tensor '{shown}' has shape {t.ShapeText}, expected [{string.Join(", ", shape)}] for this model JSON{UnusedList()}");
            for (int i = 0; i < t.Data.Length; i++)
                if (!float.IsFinite(t.Data[i]))
                    throw new FpgaException(ErrorCodes.TensorNotFinite, path, $"tensor '{shown}' holds a non-finite value ({t.Data[i]}) at element {i}; retrain or clean the weights");
            return t;
        }
        LinearWeights Linear(string prefix, int output, int input) =>
            new(output, input, Get(prefix + ".weight", output, input).Data, Get(prefix + ".bias", output).Data);
        NormWeights Norm(string prefix) => new(
            Get(prefix + ".weight", d).Data, Get(prefix + ".bias", d).Data,
            config.Norm == NormKind.Batch ? Get(prefix + ".running_mean", d).Data : null,
            config.Norm == NormKind.Batch ? CheckVariance(Get(prefix + ".running_var", d), fileNames[prefix + ".running_var"], path) : null);

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
        return new TransformerWeights(embedding, encoders, head) { UnusedTensors = unused };
    }

    /// <summary>The canonical names of every tensor the model reads.</summary>
    private static HashSet<string> ExpectedNames(ModelConfig config)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        void Linear(string prefix) { names.Add(prefix + ".weight"); names.Add(prefix + ".bias"); }
        void Norm(string prefix)
        {
            Linear(prefix);
            if (config.Norm == NormKind.Batch) { names.Add(prefix + ".running_mean"); names.Add(prefix + ".running_var"); }
        }
        Linear("embedding");
        for (int i = 0; i < config.EncoderLayers; i++)
        {
            foreach (string part in new[] { "attn.q", "attn.k", "attn.v", "attn.out", "ffn.fc1", "ffn.fc2" }) Linear($"encoder.{i}.{part}");
            Norm($"encoder.{i}.norm1");
            Norm($"encoder.{i}.norm2");
        }
        Linear("head");
        return names;
    }

    /// <summary>
    /// A norm's parameters under a prefix that does not end in a layer index: nn.TransformerEncoder(norm=…)
    /// saves its final norm as `&lt;encoder&gt;.norm.weight`, beside the layers' `&lt;encoder&gt;.layers.{i}.norm1.*`.
    /// </summary>
    private static readonly Regex NormParameter = new(@"^(?:(?<prefix>.+)\.)?norm\.(?:weight|bias|running_mean|running_var)$", RegexOptions.CultureInvariant);

    private static bool IsFinalEncoderNorm(string name)
    {
        var m = NormParameter.Match(name);
        if (!m.Success) return false;
        string prefix = m.Groups["prefix"].Value;
        // A norm inside a layer sits under the layer's index ("….0.norm.weight"); the final one under the encoder's name.
        return prefix.Length == 0 || !prefix.Split('.')[^1].All(char.IsAsciiDigit);
    }

    /// <summary>" (or '….linear1.bias' as nn.TransformerEncoderLayer saves it)" for an encoder tensor, else "".</summary>
    private static string PyTorchAlias(string canonical)
    {
        var m = Regex.Match(canonical, @"^encoder\.(?<i>\d+)\.(?<part>attn\.[qkv]|attn\.out|ffn\.fc1|ffn\.fc2|norm1|norm2)\.(?<what>\w+)$", RegexOptions.CultureInvariant);
        if (!m.Success) return "";
        string what = m.Groups["what"].Value;
        string alias = m.Groups["part"].Value switch
        {
            "attn.out" => "self_attn.out_proj." + what,
            "ffn.fc1" => "linear1." + what,
            "ffn.fc2" => "linear2." + what,
            var p when p.StartsWith("attn.", StringComparison.Ordinal) => "self_attn.in_proj_" + what,
            var p => p + "." + what,
        };
        return $" (or '….{m.Groups["i"].Value}.{alias}' as nn.TransformerEncoderLayer saves it)";
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

    /// <summary>The tensors under canonical names, and for each canonical name the file's name it came from.</summary>
    internal static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> FileNames) Canonicalize(IReadOnlyDictionary<string, Tensor> raw)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var fileNames = new Dictionary<string, string>(StringComparer.Ordinal);
        void Put(string canonical, string fileName, Tensor tensor)
        {
            result[canonical] = tensor;
            fileNames[canonical] = fileName;
        }
        foreach (var (name, tensor) in raw)
        {
            var m = PyTorchEncoderName.Match(name);
            if (!m.Success || name.StartsWith("encoder." + m.Groups["layer"].Value + ".attn.", StringComparison.Ordinal))
            {
                if (result.TryAdd(name, tensor)) fileNames[name] = name;
                continue;
            }
            string p = "encoder." + int.Parse(m.Groups["layer"].Value, System.Globalization.CultureInfo.InvariantCulture) + ".";
            switch (m.Groups["name"].Value)
            {
                case "self_attn.in_proj_weight": SplitInProjection(Put, p, ".weight", name, tensor); break;
                case "self_attn.in_proj_bias": SplitInProjection(Put, p, ".bias", name, tensor); break;
                case var n when n.StartsWith("self_attn.out_proj.", StringComparison.Ordinal): Put(p + "attn.out." + n["self_attn.out_proj.".Length..], name, tensor); break;
                case var n when n.StartsWith("linear1.", StringComparison.Ordinal): Put(p + "ffn.fc1." + n["linear1.".Length..], name, tensor); break;
                case var n when n.StartsWith("linear2.", StringComparison.Ordinal): Put(p + "ffn.fc2." + n["linear2.".Length..], name, tensor); break;
                case var n: Put(p + n, name, tensor); break;
            }
        }
        return (result, fileNames);
    }

    /// <summary>in_proj stacks Q, K and V along the first dimension: [3d, d] or [3d].</summary>
    private static void SplitInProjection(Action<string, string, Tensor> put, string prefix, string suffix, string fileName, Tensor t)
    {
        if (t.Shape.Length == 0 || t.Shape[0] % 3 != 0 || t.Dtype != "F32")
        {
            put(prefix + "attn.q" + suffix, fileName, t); // reported as a shape/dtype error when looked up
            return;
        }
        int rows = t.Shape[0] / 3;
        int stride = t.Data.Length / 3;
        var shape = t.Shape.ToArray();
        shape[0] = rows;
        string[] parts = ["q", "k", "v"];
        for (int i = 0; i < 3; i++)
            put(prefix + "attn." + parts[i] + suffix, fileName, new Tensor(shape, t.Data.AsSpan(i * stride, stride).ToArray()));
    }
}
