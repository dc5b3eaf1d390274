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
    private IntegerTransformer(ModelConfig config, QuantScale input, QuantScale[] inputFeatures, List<QuantizedLayer> layers)
    {
        Config = config;
        Input = input;
        InputFeatures = inputFeatures;
        for (int i = 0; i < layers.Count; i++) layers[i].Index = i;
        Layers = layers;
        OutputLayer = layers[^1];
    }

    public ModelConfig Config { get; }
    /// <summary>
    /// The scale the embedding's integer weights take their input at (the widest of <see cref="InputFeatures"/>); its bits,
    /// the embedding's activation bits, are those of every input word.
    /// </summary>
    public QuantScale Input { get; }
    /// <summary>
    /// Quantization of each (normalized) input feature: x[t, f] is quantized at InputFeatures[f]. Each feature has its own
    /// calibrated range; the embedding's weights of feature f were multiplied by InputFeatures[f].Scale / Input.Scale
    /// before they were quantized, so the integer datapath is the one of a single input scale.
    /// </summary>
    public IReadOnlyList<QuantScale> InputFeatures { get; }
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

    /// <param name="ranges">The calibration (<see cref="Calibrate"/>): the range of every layer name and input feature at given bits.</param>
    /// <param name="bits">Bits per layer name.</param>
    public static IntegerTransformer Quantize(ModelConfig config, TransformerWeights weights,
        ActivationRanges ranges, Func<string, LayerBits> bits)
    {
        int w = config.Window, d = config.DModel;
        var layers = new List<QuantizedLayer>();
        T Add<T>(T layer) where T : QuantizedLayer { layers.Add(layer); return layer; }
        QuantScale Scale(string name) => QuantScale.ForRange(ranges.Range(name, bits(name).ActivationBits), bits(name).ActivationBits);

        var (input, features) = InputScales(config, ranges, bits("embedding").ActivationBits);
        QuantizedLayer h = Add(LinearLayer.Quantize("embedding", weights.Embedding, null, input, Scale("embedding"), bits("embedding").WeightBits, w, relu: false,
            features.Select(f => f.Scale / input.Scale).ToArray()));
        h = Add(PositionalEncodingLayer.Quantize("posenc", h, Scale("posenc"), w, d));
        for (int e = 0; e < config.EncoderLayers; e++)
        {
            var p = weights.Encoders[e];
            string n = "encoder" + e + ".";
            LinearLayer Linear(string name, LinearWeights lw, QuantizedLayer source, int rows, bool relu = false) =>
                Add(LinearLayer.Quantize(n + name, lw, source, source.Output, Scale(n + name), bits(n + name).WeightBits, rows, relu));
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
        Add(LinearLayer.Quantize("head", weights.Head, pool, pool.Output, Scale("head"), bits("head").WeightBits, 1, relu: false));
        return new IntegerTransformer(config, input, features, layers);
    }

    /// <summary>
    /// Each input feature's scale from its own range; a feature that was 0 throughout calibration takes the widest
    /// feature's scale. The reference the embedding is quantized at is the widest scale, so no weight grows by the fold.
    /// </summary>
    private static (QuantScale Reference, QuantScale[] Features) InputScales(ModelConfig config, ActivationRanges ranges, int bits)
    {
        var features = new QuantScale[config.InputFeatures];
        var calibrated = new List<QuantScale>();
        for (int f = 0; f < features.Length; f++)
        {
            string name = PerFeatureInputScales ? ActivationRanges.InputFeature(f) : "input";
            double range = ranges.Range(name, bits);
            if (range > 0 && double.IsFinite(range)) calibrated.Add(features[f] = QuantScale.ForRange(range, bits));
        }
        var reference = calibrated.Count > 0 ? calibrated.MaxBy(s => s.Scale) : QuantScale.ForRange(0, bits);
        for (int f = 0; f < features.Length; f++)
            if (features[f].Bits == 0) features[f] = reference;
        return (reference, features);
    }

    internal static bool PerFeatureInputScales = Environment.GetEnvironmentVariable("TFPGA_PTQ_FEATURE") != "0";
    internal static ActivationClipping Clipping = Environment.GetEnvironmentVariable("TFPGA_PTQ_CLIP") == "max" ? ActivationClipping.Maximum : ActivationClipping.MinimumError;

    /// <summary>
    /// The statistics of the normalized input (as a whole, "input", and per feature, "input[f]") and of every layer's
    /// float output over the calibration windows, from which <see cref="Quantize"/> takes each tensor's range at its bits.
    /// </summary>
    public static ActivationRanges Calibrate(FloatTransformer model, IEnumerable<float[]> windows)
    {
        var histograms = new Dictionary<string, ActivationHistogram>(StringComparer.Ordinal);
        ActivationHistogram Of(string name)
        {
            if (!histograms.TryGetValue(name, out var histogram)) histograms[name] = histogram = new ActivationHistogram();
            return histogram;
        }
        int features = model.Config.InputFeatures;
        var input = Of("input");
        var perFeature = Enumerable.Range(0, features).Select(f => Of(ActivationRanges.InputFeature(f))).ToArray();
        foreach (var x in windows)
        {
            for (int i = 0; i < x.Length; i++)
            {
                input.Add(x[i]);
                perFeature[i % features].Add(x[i]);
            }
            model.Forward(x, (layer, values) =>
            {
                var histogram = Of(layer);
                foreach (double v in values) histogram.Add(v);
            });
        }
        return new ActivationRanges(histograms, Clipping);
    }

    public SimulationWorkspace CreateWorkspace() => new(Layers, InputElements);

    public void QuantizeInput(ReadOnlySpan<float> normalized, Span<int> quantized)
    {
        int features = InputFeatures.Count;
        for (int i = 0; i < normalized.Length; i++) quantized[i] = InputFeatures[i % features].Quantize(normalized[i]);
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
