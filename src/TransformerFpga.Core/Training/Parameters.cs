using TransformerFpga.Model;

namespace TransformerFpga.Training;

/// <summary>One named tensor of the model (canonical name, PyTorch layout) with its gradient.</summary>
public sealed class Parameter(string name, int[] shape, bool trainable, bool decays)
{
    public string Name { get; } = name;
    public int[] Shape { get; } = shape;
    public double[] Value { get; } = new double[shape.Aggregate(1, (a, b) => a * b)];
    public double[] Gradient { get; } = new double[shape.Aggregate(1, (a, b) => a * b)];
    /// <summary>False for batch-norm running statistics, which are frozen (see <see cref="BatchNormStatistics"/>).</summary>
    public bool Trainable { get; } = trainable;
    /// <summary>Weight decay applies to weight matrices only, not to biases or norm parameters.</summary>
    public bool Decays { get; } = decays;

    /// <summary>Rounds every value to float32, so the trainer computes with exactly the weights it writes.</summary>
    public void RoundToFloat32()
    {
        for (int i = 0; i < Value.Length; i++) Value[i] = (float)Value[i];
    }

    public Tensor ToTensor() => new(Shape.ToArray(), Value.Select(v => (float)v).ToArray());
}

public sealed class LinearParameters
{
    public LinearParameters(ParameterSet set, string name, int outputs, int inputs)
    {
        Outputs = outputs;
        Inputs = inputs;
        Weight = set.Add(name + ".weight", [outputs, inputs], trainable: true, decays: true);
        Bias = set.Add(name + ".bias", [outputs], trainable: true, decays: false);
        ForwardWeight = Weight.Value;
    }

    /// <summary>
    /// The layer's own name as the integer model calls it (embedding, encoder0.attn.q, …, head), for
    /// quantization-aware fine-tuning.
    /// </summary>
    public string LayerName => Weight.Name[..^".weight".Length].Replace("encoder.", "encoder", StringComparison.Ordinal);

    /// <summary>
    /// The weights the forward multiplied by, which the backward uses for the input gradient: the parameters
    /// themselves in float training; the dequantized integer weights in quantization-aware fine-tuning, whose
    /// straight-through gradient then updates the float parameters.
    /// </summary>
    public double[] ForwardWeight { get; set; }

    public int Outputs { get; }
    public int Inputs { get; }
    public Parameter Weight { get; }
    public Parameter Bias { get; }
}

public sealed class NormParameters
{
    public NormParameters(ParameterSet set, string name, int channels, NormKind kind)
    {
        Kind = kind;
        Weight = set.Add(name + ".weight", [channels], trainable: true, decays: false);
        Bias = set.Add(name + ".bias", [channels], trainable: true, decays: false);
        Array.Fill(Weight.Value, 1.0);
        if (kind == NormKind.Batch)
        {
            RunningMean = set.Add(name + ".running_mean", [channels], trainable: false, decays: false);
            RunningVar = set.Add(name + ".running_var", [channels], trainable: false, decays: false);
            Array.Fill(RunningVar.Value, 1.0);
        }
    }

    public NormKind Kind { get; }
    public Parameter Weight { get; }
    public Parameter Bias { get; }
    public Parameter? RunningMean { get; }
    public Parameter? RunningVar { get; }
}

public sealed class EncoderParameters(ParameterSet set, int layer, NetworkShape shape)
{
    public LinearParameters Q { get; } = new(set, $"encoder.{layer}.attn.q", shape.DModel, shape.DModel);
    public LinearParameters K { get; } = new(set, $"encoder.{layer}.attn.k", shape.DModel, shape.DModel);
    public LinearParameters V { get; } = new(set, $"encoder.{layer}.attn.v", shape.DModel, shape.DModel);
    public LinearParameters Out { get; } = new(set, $"encoder.{layer}.attn.out", shape.DModel, shape.DModel);
    public NormParameters Norm1 { get; } = new(set, $"encoder.{layer}.norm1", shape.DModel, shape.Norm);
    public LinearParameters Fc1 { get; } = new(set, $"encoder.{layer}.ffn.fc1", shape.FfnDim, shape.DModel);
    public LinearParameters Fc2 { get; } = new(set, $"encoder.{layer}.ffn.fc2", shape.DModel, shape.FfnDim);
    public NormParameters Norm2 { get; } = new(set, $"encoder.{layer}.norm2", shape.DModel, shape.Norm);
}

/// <summary>Every tensor of the model in creation order (the order fixes initialization and updates).</summary>
public sealed class ParameterSet
{
    private readonly List<Parameter> _all = [];

    public IReadOnlyList<Parameter> All => _all;

    public Parameter Add(string name, int[] shape, bool trainable, bool decays)
    {
        var p = new Parameter(name, shape, trainable, decays);
        _all.Add(p);
        return p;
    }

    public void ClearGradients()
    {
        foreach (var p in _all) Array.Clear(p.Gradient);
    }

    public Dictionary<string, Tensor> ToTensors() => _all.ToDictionary(p => p.Name, p => p.ToTensor(), StringComparer.Ordinal);
}
