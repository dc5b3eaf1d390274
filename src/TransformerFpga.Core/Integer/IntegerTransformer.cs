using TransformerFpga.Float;
using TransformerFpga.Layers;
using TransformerFpga.Layers.Attention;
using TransformerFpga.Layers.Linear;
using TransformerFpga.Layers.Norm;
using TransformerFpga.Layers.Pooling;
using TransformerFpga.Layers.PositionalEncoding;
using TransformerFpga.Layers.Relu;
using TransformerFpga.Layers.Residual;
using TransformerFpga.Model;
using TransformerFpga.Quantization;

namespace TransformerFpga.Integer;

/// <summary>Weight and activation bits of one layer.</summary>
public readonly record struct LayerBits(int WeightBits, int ActivationBits);

/// <summary>
/// The integer-only model: the golden model the VHDL reproduces bit for bit. Floats are used only
/// here in <see cref="Quantize"/>, to derive integer constants; <see cref="Simulate"/> is integers only.
/// </summary>
public sealed class IntegerTransformer
{
    private IntegerTransformer(ModelConfig config, QuantScale input, List<QuantizedLayer> layers)
    {
        Config = config;
        Input = input;
        for (int i = 0; i < layers.Count; i++) layers[i].Index = i;
        Layers = layers;
        OutputLayer = layers[^1];
    }

    public ModelConfig Config { get; }
    /// <summary>Quantization of the (normalized) model input; its bits are the embedding's activation bits.</summary>
    public QuantScale Input { get; }
    public IReadOnlyList<QuantizedLayer> Layers { get; }
    public QuantizedLayer OutputLayer { get; }
    public int InputElements => Config.Window * Config.InputFeatures;

    /// <summary>Layer names in execution order.</summary>
    public static IReadOnlyList<string> LayerNames(ModelConfig config)
    {
        var names = new List<string> { "embedding", "posenc" };
        for (int e = 0; e < config.EncoderLayers; e++)
        {
            string p = "encoder" + e + ".";
            names.AddRange([p + "attn.q", p + "attn.k", p + "attn.v", p + "attn.scores", p + "attn.softmax", p + "attn.context", p + "attn.out",
                p + "add1", p + "norm1", p + "ffn.fc1", p + "ffn.relu", p + "ffn.fc2", p + "add2", p + "norm2"]);
        }
        names.AddRange(["pool", "head"]);
        return names;
    }

    /// <summary>The linear layers of <see cref="LayerNames"/>: the only ones whose weight bits the quantization reads.</summary>
    public static bool HasWeights(string layer) =>
        layer is "embedding" or "head" || layer.EndsWith(".attn.q", StringComparison.Ordinal) || layer.EndsWith(".attn.k", StringComparison.Ordinal)
        || layer.EndsWith(".attn.v", StringComparison.Ordinal) || layer.EndsWith(".attn.out", StringComparison.Ordinal)
        || layer.EndsWith(".ffn.fc1", StringComparison.Ordinal) || layer.EndsWith(".ffn.fc2", StringComparison.Ordinal);

    /// <param name="ranges">Calibrated max |x| per layer name, plus "input".</param>
    /// <param name="bits">Bits per layer name.</param>
    public static IntegerTransformer Quantize(ModelConfig config, TransformerWeights weights,
        IReadOnlyDictionary<string, double> ranges, Func<string, LayerBits> bits, IReadOnlyDictionary<string, double[]>? secondMoments = null)
    {
        double[]? H(string name) => secondMoments?.GetValueOrDefault(name);
        int w = config.Window, d = config.DModel;
        var layers = new List<QuantizedLayer>();
        T Add<T>(T layer) where T : QuantizedLayer { layers.Add(layer); return layer; }
        QuantScale Scale(string name) => QuantScale.ForRange(ranges[name], bits(name).ActivationBits);

        var input = QuantScale.ForRange(ranges["input"], bits("embedding").ActivationBits);
        QuantizedLayer h = Add(LinearLayer.Quantize("embedding", weights.Embedding, null, input, Scale("embedding"), bits("embedding").WeightBits, w, relu: false, H("embedding")));
        h = Add(PositionalEncodingLayer.Quantize("posenc", h, Scale("posenc"), w, d));
        for (int e = 0; e < config.EncoderLayers; e++)
        {
            var p = weights.Encoders[e];
            string n = "encoder" + e + ".";
            LinearLayer Linear(string name, LinearWeights lw, QuantizedLayer source, int rows, bool relu = false) =>
                Add(LinearLayer.Quantize(n + name, lw, source, source.Output, Scale(n + name), bits(n + name).WeightBits, rows, relu, H(n + name)));
            QuantizedLayer Norm(string name, NormWeights nw, QuantizedLayer source) => config.Norm == NormKind.Batch
                ? Add(BatchNormLayer.Quantize(n + name, nw, source, Scale(n + name)))
                : Add(LayerNormLayer.Quantize(n + name, nw, source, Scale(n + name)));

            var q = Linear("attn.q", p.Q, h, w);
            var k = Linear("attn.k", p.K, h, w);
            var v = Linear("attn.v", p.V, h, w);
            var scores = Add(ScoresLayer.Quantize(n + "attn.scores", q, k, config.Heads, Scale(n + "attn.scores")));
            var softmax = Add(SoftmaxLayer.Quantize(n + "attn.softmax", scores, bits(n + "attn.softmax").ActivationBits));
            var context = Add(ContextLayer.Quantize(n + "attn.context", softmax, v, config.Heads, Scale(n + "attn.context")));
            var attention = Linear("attn.out", p.Out, context, w);
            var add1 = Add(ResidualAddLayer.Quantize(n + "add1", h, attention, Scale(n + "add1")));
            var norm1 = Norm("norm1", p.Norm1, add1);
            var fc1 = Linear("ffn.fc1", p.Fc1, norm1, w, relu: true);
            Add(new ReluLayer(n + "ffn.relu", fc1));
            var fc2 = Linear("ffn.fc2", p.Fc2, fc1, w);
            var add2 = Add(ResidualAddLayer.Quantize(n + "add2", norm1, fc2, Scale(n + "add2")));
            h = Norm("norm2", p.Norm2, add2);
        }
        var pool = Add(AveragePoolLayer.Quantize("pool", h, Scale("pool")));
        Add(LinearLayer.Quantize("head", weights.Head, pool, pool.Output, Scale("head"), bits("head").WeightBits, 1, relu: false, H("head")));
        return new IntegerTransformer(config, input, layers);
    }

    /// <summary>Max |x| of the normalized input and of every layer's float output over the calibration windows.</summary>
    public static Dictionary<string, double> Calibrate(FloatTransformer model, IEnumerable<float[]> windows)
    {
        var ranges = new Dictionary<string, double>(StringComparer.Ordinal) { ["input"] = 0 };
        foreach (var x in windows)
        {
            foreach (float v in x) ranges["input"] = Math.Max(ranges["input"], Math.Abs(v));
            model.Forward(x, (layer, values) =>
            {
                double max = ranges.GetValueOrDefault(layer);
                foreach (double v in values) max = Math.Max(max, Math.Abs(v));
                ranges[layer] = max;
            });
        }
        return ranges;
    }

    public SimulationWorkspace CreateWorkspace() => new(Layers, InputElements);

    public void QuantizeInput(ReadOnlySpan<float> normalized, Span<int> quantized)
    {
        for (int i = 0; i < normalized.Length; i++) quantized[i] = Input.Quantize(normalized[i]);
    }

    /// <summary>Runs every layer on workspace.Input; returns the output layer's buffer (owned by the workspace).</summary>
    public int[] Simulate(SimulationWorkspace workspace)
    {
        foreach (var layer in Layers) layer.Simulate(workspace);
        return workspace.Of(OutputLayer);
    }

    /// <summary>Quantized outputs for a quantized input window.</summary>
    public int[] Simulate(ReadOnlySpan<int> quantizedInput)
    {
        var workspace = CreateWorkspace();
        quantizedInput.CopyTo(workspace.Input);
        return (int[])Simulate(workspace).Clone();
    }

    /// <summary>Normalized float outputs of the integer model for a normalized input window.</summary>
    public double[] Predict(ReadOnlySpan<float> normalized, SimulationWorkspace workspace)
    {
        QuantizeInput(normalized, workspace.Input);
        var y = Simulate(workspace);
        var result = new double[y.Length];
        for (int i = 0; i < y.Length; i++) result[i] = OutputLayer.Output.Dequantize(y[i]);
        return result;
    }
}
