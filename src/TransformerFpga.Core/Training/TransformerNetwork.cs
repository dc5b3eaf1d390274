using TransformerFpga.Float;
using TransformerFpga.Model;

namespace TransformerFpga.Training;

public sealed record NetworkShape(int Window, int InputFeatures, int OutputFeatures, int DModel, int Heads, int FfnDim, int EncoderLayers, NormKind Norm)
{
    public int HeadDim => DModel / Heads;
}

/// <summary>
/// The forecaster (the model JSON's architecture) with a hand-written backward pass. The forward performs the same double
/// operations in the same order as <see cref="FloatTransformer"/>, so both agree to rounding noise.
/// One window at a time: <see cref="Forward"/> keeps every activation in a reusable workspace and
/// <see cref="Backward"/> adds this window's gradients into the parameters' gradient arrays.
/// <see cref="ForwardQuantized"/> takes every activation from the integer model instead (quantization-aware
/// fine-tuning); the backward is then the straight-through one (see there).
/// </summary>
public sealed class TransformerNetwork
{
    public const double NormEpsilon = 1e-5;

    private readonly double[] _positional;
    private readonly Workspace _work;

    public TransformerNetwork(NetworkShape shape)
    {
        Shape = shape;
        Embedding = new LinearParameters(Parameters, "embedding", shape.DModel, shape.InputFeatures);
        Encoders = new EncoderParameters[shape.EncoderLayers];
        for (int i = 0; i < Encoders.Length; i++) Encoders[i] = new EncoderParameters(Parameters, i, shape);
        Head = new LinearParameters(Parameters, "head", shape.OutputFeatures, shape.DModel);
        _positional = FloatTransformer.PositionalEncoding(shape.Window, shape.DModel);
        _work = new Workspace(shape);
    }

    public NetworkShape Shape { get; }
    public ParameterSet Parameters { get; } = new();
    public LinearParameters Embedding { get; }
    public EncoderParameters[] Encoders { get; }
    public LinearParameters Head { get; }

    /// <summary>Norms in forward order: encoder0.norm1, encoder0.norm2, encoder1.norm1, …</summary>
    public IEnumerable<NormParameters> Norms => Encoders.SelectMany(e => new[] { e.Norm1, e.Norm2 });

    /// <summary>Every linear layer in forward order: embedding, per encoder Q, K, V, out, fc1, fc2, then head.</summary>
    public IEnumerable<LinearParameters> Linears => AllLinears();

    /// <summary>
    /// Reads one output of the integer model: <paramref name="layer"/> is the layer's name in the model
    /// (<c>embedding</c>, <c>encoder0.attn.q</c>, …, <c>head</c>; <c>input</c> for the quantized model input).
    /// Fills <paramref name="values"/> with the dequantized integers and <paramref name="mask"/> with the
    /// straight-through factor of each element: 1 where the value passed the quantizer, 0 where it saturated.
    /// </summary>
    public delegate void QuantizedActivationReader(string layer, double[] values, double[] mask);

    /// <summary>True while the last forward was <see cref="ForwardQuantized"/>: the backward then applies the masks.</summary>
    private bool _quantized;

    /// <summary>Sees the input rows [t * d + c] of norm number <c>normIndex</c> (forward order).</summary>
    public delegate void NormInputObserver(int normIndex, double[] input);

    /// <summary>PyTorch's defaults: U(±1/sqrt(in)) for Linear, Xavier-uniform for the Q/K/V projections.</summary>
    public void Initialize(DeterministicRandom random)
    {
        foreach (var linear in AllLinears())
        {
            bool attentionProjection = linear.Weight.Name.Contains(".attn.", StringComparison.Ordinal) && !linear.Weight.Name.Contains(".attn.out", StringComparison.Ordinal);
            double weightBound = attentionProjection
                ? Math.Sqrt(6.0 / (linear.Inputs + linear.Outputs))
                : 1.0 / Math.Sqrt(linear.Inputs);
            double biasBound = attentionProjection ? 0 : 1.0 / Math.Sqrt(linear.Inputs);
            for (int i = 0; i < linear.Weight.Value.Length; i++) linear.Weight.Value[i] = random.Uniform(-weightBound, weightBound);
            for (int i = 0; i < linear.Bias.Value.Length; i++) linear.Bias.Value[i] = random.Uniform(-biasBound, biasBound);
        }
    }

    private IEnumerable<LinearParameters> AllLinears()
    {
        yield return Embedding;
        foreach (var e in Encoders)
        {
            yield return e.Q; yield return e.K; yield return e.V; yield return e.Out;
            yield return e.Fc1; yield return e.Fc2;
        }
        yield return Head;
    }

    /// <summary>Forward pass of one normalized window [t * features + f]; returns the normalized outputs.</summary>
    public double[] Forward(ReadOnlySpan<float> window, NormInputObserver? observeNormInput = null)
    {
        var s = Shape;
        var w = _work;
        _quantized = false;
        for (int i = 0; i < w.Input.Length; i++) w.Input[i] = window[i];
        LinearForward(w.Input, s.Window, Embedding, w.Embedded);
        for (int i = 0; i < w.Embedded.Length; i++) w.Embedded[i] += _positional[i];
        double[] x = w.Embedded;
        for (int e = 0; e < Encoders.Length; e++)
        {
            EncoderForward(x, Encoders[e], w.Layers[e], 2 * e, observeNormInput);
            x = w.Layers[e].Norm2Output;
        }
        Array.Clear(w.Pooled);
        for (int t = 0; t < s.Window; t++)
            for (int c = 0; c < s.DModel; c++) w.Pooled[c] += x[t * s.DModel + c];
        for (int c = 0; c < s.DModel; c++) w.Pooled[c] /= s.Window;
        var y = new double[s.OutputFeatures];
        LinearForward(w.Pooled, 1, Head, y);
        return y;
    }

    /// <summary>
    /// The integer model's forward, read layer by layer after the simulator ran on the window: every activation the
    /// backward needs is the simulator's own (dequantized), so the loss fine-tuning minimizes is the hardware's.
    /// Set each linear layer's <see cref="LinearParameters.ForwardWeight"/> to its dequantized integer weights first.
    /// Returns the dequantized (normalized) outputs.
    /// </summary>
    public double[] ForwardQuantized(QuantizedActivationReader read)
    {
        var s = Shape;
        var w = _work;
        _quantized = true;
        read("input", w.Input, w.InputMask);
        read("embedding", w.EmbeddingOutput, w.EmbeddingMask);
        read("posenc", w.Embedded, w.PositionalMask);
        for (int e = 0; e < Encoders.Length; e++)
        {
            var l = w.Layers[e];
            string n = "encoder" + e.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".";
            read(n + "attn.q", l.Q, l.QMask);
            read(n + "attn.k", l.K, l.KMask);
            read(n + "attn.v", l.V, l.VMask);
            read(n + "attn.scores", l.Scores, l.ScoresMask);
            read(n + "attn.softmax", l.Probabilities, l.ProbabilitiesMask);
            read(n + "attn.context", l.Context, l.ContextMask);
            read(n + "attn.out", l.Attention, l.AttentionMask);
            read(n + "add1", l.Sum1, l.Sum1Mask);
            read(n + "norm1", l.Norm1Output, l.Norm1Mask);
            read(n + "ffn.fc1", l.Hidden, l.HiddenMask);
            read(n + "ffn.fc2", l.Ffn, l.FfnMask);
            read(n + "add2", l.Sum2, l.Sum2Mask);
            read(n + "norm2", l.Norm2Output, l.Norm2Mask);
            if (s.Norm == NormKind.Layer)
            {
                RowInverseStd(l.Sum1, l.Norm1InverseStd);
                RowInverseStd(l.Sum2, l.Norm2InverseStd);
            }
        }
        read("pool", w.Pooled, w.PooledMask);
        var y = new double[s.OutputFeatures];
        read("head", y, w.OutputMask);
        return y;
    }

    /// <summary>
    /// Adds d(loss)/d(parameters) for the window of the last forward, given d(loss)/d(outputs).
    /// After <see cref="ForwardQuantized"/> this is the straight-through estimator: each quantizer passes the gradient
    /// unchanged where its value did not saturate and blocks it where it did (the mask); the weights' rounding passes it
    /// unchanged to the float weights, and the input gradients use the quantized weights the forward multiplied by.
    /// </summary>
    public void Backward(ReadOnlySpan<double> outputGradient)
    {
        var s = Shape;
        var w = _work;
        Array.Clear(w.PooledGradient);
        if (_quantized)
        {
            for (int o = 0; o < outputGradient.Length; o++) w.OutputGradient[o] = outputGradient[o] * w.OutputMask[o];
            outputGradient = w.OutputGradient;
        }
        LinearBackward(w.Pooled, 1, Head, outputGradient, w.PooledGradient);
        Mask(w.PooledGradient, w.PooledMask);
        var gradient = w.Layers[^1].Norm2OutputGradient;
        for (int t = 0; t < s.Window; t++)
            for (int c = 0; c < s.DModel; c++) gradient[t * s.DModel + c] = w.PooledGradient[c] / s.Window;
        for (int e = Encoders.Length - 1; e >= 0; e--)
        {
            double[] input = e == 0 ? w.Embedded : w.Layers[e - 1].Norm2Output;
            double[] inputGradient = e == 0 ? w.EmbeddedGradient : w.Layers[e - 1].Norm2OutputGradient;
            EncoderBackward(input, Encoders[e], w.Layers[e], inputGradient);
        }
        // The positional encoding is a constant; the window itself needs no gradient.
        Mask(w.EmbeddedGradient, w.PositionalMask);
        Mask(w.EmbeddedGradient, w.EmbeddingMask);
        LinearBackward(w.Input, s.Window, Embedding, w.EmbeddedGradient, Span<double>.Empty);
    }

    /// <summary>gradient ×= mask after a quantized forward (the straight-through estimator); nothing after a float one.</summary>
    private void Mask(double[] gradient, double[] mask)
    {
        if (!_quantized) return;
        for (int i = 0; i < gradient.Length; i++) gradient[i] *= mask[i];
    }

    /// <summary>The layer norm's 1/sqrt(var + eps) of each row, as <see cref="NormForward"/> keeps it.</summary>
    private void RowInverseStd(double[] x, double[] inverseStd)
    {
        for (int r = 0; r < inverseStd.Length; r++) inverseStd[r] = RowStatistics(x, r, Shape.DModel).InverseStd;
    }

    /// <summary>The layer norm's mean and 1/sqrt(var + eps) of row <paramref name="r"/> of width <paramref name="d"/>.</summary>
    private static (double Mean, double InverseStd) RowStatistics(double[] x, int r, int d)
    {
        double rowMean = 0, rowVariance = 0;
        for (int c = 0; c < d; c++) rowMean += x[r * d + c];
        rowMean /= d;
        for (int c = 0; c < d; c++) rowVariance += (x[r * d + c] - rowMean) * (x[r * d + c] - rowMean);
        rowVariance /= d;
        return (rowMean, 1.0 / Math.Sqrt(rowVariance + NormEpsilon));
    }

    private void EncoderForward(double[] x, EncoderParameters p, LayerWorkspace l, int firstNormIndex, NormInputObserver? observeNormInput)
    {
        int window = Shape.Window, d = Shape.DModel, heads = Shape.Heads, dh = Shape.HeadDim;
        LinearForward(x, window, p.Q, l.Q);
        LinearForward(x, window, p.K, l.K);
        LinearForward(x, window, p.V, l.V);
        double scale = 1.0 / Math.Sqrt(dh);
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < window; i++)
            {
                int row = (h * window + i) * window;
                for (int j = 0; j < window; j++)
                {
                    double score = 0;
                    for (int c = 0; c < dh; c++) score += l.Q[i * d + h * dh + c] * l.K[j * d + h * dh + c];
                    l.Probabilities[row + j] = score * scale;
                }
                double max = double.NegativeInfinity;
                for (int j = 0; j < window; j++) max = Math.Max(max, l.Probabilities[row + j]);
                double sum = 0;
                for (int j = 0; j < window; j++) sum += l.Probabilities[row + j] = Math.Exp(l.Probabilities[row + j] - max);
                for (int j = 0; j < window; j++) l.Probabilities[row + j] /= sum;
            }
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < window; i++)
                for (int c = 0; c < dh; c++)
                {
                    double sum = 0;
                    for (int j = 0; j < window; j++) sum += l.Probabilities[(h * window + i) * window + j] * l.V[j * d + h * dh + c];
                    l.Context[i * d + h * dh + c] = sum;
                }
        LinearForward(l.Context, window, p.Out, l.Attention);
        for (int i = 0; i < l.Sum1.Length; i++) l.Sum1[i] = x[i] + l.Attention[i];
        observeNormInput?.Invoke(firstNormIndex, l.Sum1);
        NormForward(l.Sum1, p.Norm1, l.Norm1Output, l.Norm1InverseStd);
        LinearForward(l.Norm1Output, window, p.Fc1, l.Hidden);
        for (int i = 0; i < l.Hidden.Length; i++) l.Hidden[i] = Math.Max(0, l.Hidden[i]);
        LinearForward(l.Hidden, window, p.Fc2, l.Ffn);
        for (int i = 0; i < l.Sum2.Length; i++) l.Sum2[i] = l.Norm1Output[i] + l.Ffn[i];
        observeNormInput?.Invoke(firstNormIndex + 1, l.Sum2);
        NormForward(l.Sum2, p.Norm2, l.Norm2Output, l.Norm2InverseStd);
    }

    /// <summary>Reads l.Norm2OutputGradient; overwrites inputGradient with d(loss)/d(layer input).</summary>
    private void EncoderBackward(double[] x, EncoderParameters p, LayerWorkspace l, double[] inputGradient)
    {
        int window = Shape.Window, d = Shape.DModel, heads = Shape.Heads, dh = Shape.HeadDim;
        // After a quantized forward, every gradient is masked by the quantizer of the value it is the gradient of
        // before it passes through the operation that produced that value.
        Mask(l.Norm2OutputGradient, l.Norm2Mask);
        // norm2(n1 + ffn): both branches receive d(sum2).
        NormBackward(l.Sum2, p.Norm2, l.Norm2InverseStd, l.Norm2OutputGradient, l.Sum2Gradient);
        Mask(l.Sum2Gradient, l.Sum2Mask);
        Array.Copy(l.Sum2Gradient, l.Norm1OutputGradient, l.Sum2Gradient.Length);
        Array.Clear(l.HiddenGradient);
        var ffnGradient = l.Sum2Gradient;
        if (_quantized)
        {
            Array.Copy(l.Sum2Gradient, l.FfnGradient, l.FfnGradient.Length);
            Mask(l.FfnGradient, l.FfnMask);
            ffnGradient = l.FfnGradient;
        }
        LinearBackward(l.Hidden, window, p.Fc2, ffnGradient, l.HiddenGradient);
        for (int i = 0; i < l.Hidden.Length; i++)
            if (l.Hidden[i] <= 0) l.HiddenGradient[i] = 0;
        Mask(l.HiddenGradient, l.HiddenMask);
        LinearBackward(l.Norm1Output, window, p.Fc1, l.HiddenGradient, l.Norm1OutputGradient);
        Mask(l.Norm1OutputGradient, l.Norm1Mask);
        // norm1(x + attention): both branches receive d(sum1).
        NormBackward(l.Sum1, p.Norm1, l.Norm1InverseStd, l.Norm1OutputGradient, l.Sum1Gradient);
        Mask(l.Sum1Gradient, l.Sum1Mask);
        Array.Copy(l.Sum1Gradient, inputGradient, l.Sum1Gradient.Length);
        Array.Clear(l.ContextGradient);
        var attentionGradient = l.Sum1Gradient;
        if (_quantized)
        {
            Array.Copy(l.Sum1Gradient, l.AttentionGradient, l.AttentionGradient.Length);
            Mask(l.AttentionGradient, l.AttentionMask);
            attentionGradient = l.AttentionGradient;
        }
        LinearBackward(l.Context, window, p.Out, attentionGradient, l.ContextGradient);
        Mask(l.ContextGradient, l.ContextMask);

        Array.Clear(l.QGradient);
        Array.Clear(l.KGradient);
        Array.Clear(l.VGradient);
        double scale = 1.0 / Math.Sqrt(dh);
        var probabilityGradient = l.RowScratch;
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < window; i++)
            {
                int row = (h * window + i) * window;
                // context[i] = Σj P[i,j]·v[j]
                double weighted = 0;
                for (int j = 0; j < window; j++)
                {
                    double probability = l.Probabilities[row + j], g = 0;
                    for (int c = 0; c < dh; c++)
                    {
                        double contextGradient = l.ContextGradient[i * d + h * dh + c];
                        g += contextGradient * l.V[j * d + h * dh + c];
                        l.VGradient[j * d + h * dh + c] += probability * contextGradient;
                    }
                    if (_quantized) g *= l.ProbabilitiesMask[row + j];
                    probabilityGradient[j] = g;
                    weighted += probability * g;
                }
                // Softmax backward, then scores = scale · q[i]·k[j].
                for (int j = 0; j < window; j++)
                {
                    double scoreGradient = l.Probabilities[row + j] * (probabilityGradient[j] - weighted) * scale;
                    if (_quantized) scoreGradient *= l.ScoresMask[row + j];
                    for (int c = 0; c < dh; c++)
                    {
                        l.QGradient[i * d + h * dh + c] += scoreGradient * l.K[j * d + h * dh + c];
                        l.KGradient[j * d + h * dh + c] += scoreGradient * l.Q[i * d + h * dh + c];
                    }
                }
            }
        Mask(l.QGradient, l.QMask);
        Mask(l.KGradient, l.KMask);
        Mask(l.VGradient, l.VMask);
        LinearBackward(x, window, p.Q, l.QGradient, inputGradient);
        LinearBackward(x, window, p.K, l.KGradient, inputGradient);
        LinearBackward(x, window, p.V, l.VGradient, inputGradient);
    }

    /// <summary>y = x·Wᵀ + b per row, summed in the order FloatTransformer uses.</summary>
    private static void LinearForward(double[] x, int rows, LinearParameters l, double[] y)
    {
        double[] weight = l.Weight.Value, bias = l.Bias.Value;
        int inputs = l.Inputs, outputs = l.Outputs;
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outputs; o++)
            {
                double sum = bias[o];
                for (int i = 0; i < inputs; i++) sum += x[r * inputs + i] * weight[o * inputs + i];
                y[r * outputs + o] = sum;
            }
    }

    /// <summary>Accumulates the weight and bias gradients, and adds d(loss)/dx into <paramref name="inputGradient"/> unless it is empty.</summary>
    private static void LinearBackward(double[] x, int rows, LinearParameters l, ReadOnlySpan<double> outputGradient, Span<double> inputGradient)
    {
        double[] weight = l.ForwardWeight, weightGradient = l.Weight.Gradient, biasGradient = l.Bias.Gradient;
        int inputs = l.Inputs, outputs = l.Outputs;
        bool wantInput = !inputGradient.IsEmpty;
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outputs; o++)
            {
                double g = outputGradient[r * outputs + o];
                if (g == 0) continue;
                biasGradient[o] += g;
                int wRow = o * inputs, xRow = r * inputs;
                for (int i = 0; i < inputs; i++) weightGradient[wRow + i] += g * x[xRow + i];
                if (wantInput)
                    for (int i = 0; i < inputs; i++) inputGradient[xRow + i] += g * weight[wRow + i];
            }
    }

    /// <summary>Batch norm (eval mode, frozen statistics) or layer norm over d; keeps 1/std per row for layer norm.</summary>
    private void NormForward(double[] x, NormParameters n, double[] y, double[] inverseStd)
    {
        int d = Shape.DModel, rows = x.Length / d;
        double[] weight = n.Weight.Value, bias = n.Bias.Value;
        if (n.Kind == NormKind.Batch)
        {
            double[] mean = n.RunningMean!.Value, variance = n.RunningVar!.Value;
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < d; c++)
                    y[r * d + c] = (x[r * d + c] - mean[c]) / Math.Sqrt(variance[c] + NormEpsilon) * weight[c] + bias[c];
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            var (rowMean, inverse) = RowStatistics(x, r, d);
            inverseStd[r] = inverse;
            for (int c = 0; c < d; c++) y[r * d + c] = (x[r * d + c] - rowMean) * inverse * weight[c] + bias[c];
        }
    }

    /// <summary>Overwrites <paramref name="inputGradient"/>; accumulates the norm's weight and bias gradients.</summary>
    private void NormBackward(double[] x, NormParameters n, double[] inverseStd, double[] outputGradient, double[] inputGradient)
    {
        int d = Shape.DModel, rows = x.Length / d;
        double[] weight = n.Weight.Value, weightGradient = n.Weight.Gradient, biasGradient = n.Bias.Gradient;
        if (n.Kind == NormKind.Batch)
        {
            double[] mean = n.RunningMean!.Value, variance = n.RunningVar!.Value;
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < d; c++)
                {
                    double inverse = 1.0 / Math.Sqrt(variance[c] + NormEpsilon), g = outputGradient[r * d + c];
                    weightGradient[c] += g * (x[r * d + c] - mean[c]) * inverse;
                    biasGradient[c] += g;
                    inputGradient[r * d + c] = g * weight[c] * inverse;
                }
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            double rowMean = 0;
            for (int c = 0; c < d; c++) rowMean += x[r * d + c];
            rowMean /= d;
            double inverse = inverseStd[r], meanGradient = 0, meanGradientTimesNormalized = 0;
            for (int c = 0; c < d; c++)
            {
                double normalized = (x[r * d + c] - rowMean) * inverse, g = outputGradient[r * d + c];
                weightGradient[c] += g * normalized;
                biasGradient[c] += g;
                meanGradient += g * weight[c];
                meanGradientTimesNormalized += g * weight[c] * normalized;
            }
            meanGradient /= d;
            meanGradientTimesNormalized /= d;
            for (int c = 0; c < d; c++)
            {
                double normalized = (x[r * d + c] - rowMean) * inverse;
                inputGradient[r * d + c] = inverse * (outputGradient[r * d + c] * weight[c] - meanGradient - normalized * meanGradientTimesNormalized);
            }
        }
    }

    /// <summary>Activations and their gradients for one window, allocated once.</summary>
    private sealed class Workspace
    {
        public Workspace(NetworkShape s)
        {
            Input = new double[s.Window * s.InputFeatures];
            Embedded = new double[s.Window * s.DModel];
            EmbeddedGradient = new double[s.Window * s.DModel];
            Pooled = new double[s.DModel];
            PooledGradient = new double[s.DModel];
            InputMask = new double[Input.Length];
            EmbeddingOutput = new double[s.Window * s.DModel];
            EmbeddingMask = new double[s.Window * s.DModel];
            PositionalMask = new double[s.Window * s.DModel];
            PooledMask = new double[s.DModel];
            OutputMask = new double[s.OutputFeatures];
            OutputGradient = new double[s.OutputFeatures];
            Layers = new LayerWorkspace[s.EncoderLayers];
            for (int i = 0; i < Layers.Length; i++) Layers[i] = new LayerWorkspace(s);
        }

        public double[] Input { get; }
        public double[] Embedded { get; }
        public double[] EmbeddedGradient { get; }
        public double[] Pooled { get; }
        public double[] PooledGradient { get; }
        public LayerWorkspace[] Layers { get; }
        // Quantized forward only: the embedding's own output (the encoder reads the positional encoding's) and the masks.
        public double[] InputMask { get; }
        public double[] EmbeddingOutput { get; }
        public double[] EmbeddingMask { get; }
        public double[] PositionalMask { get; }
        public double[] PooledMask { get; }
        public double[] OutputMask { get; }
        public double[] OutputGradient { get; }
    }

    private sealed class LayerWorkspace(NetworkShape s)
    {
        public double[] Q { get; } = new double[s.Window * s.DModel];
        public double[] K { get; } = new double[s.Window * s.DModel];
        public double[] V { get; } = new double[s.Window * s.DModel];
        public double[] Probabilities { get; } = new double[s.Heads * s.Window * s.Window];
        public double[] Context { get; } = new double[s.Window * s.DModel];
        public double[] Attention { get; } = new double[s.Window * s.DModel];
        public double[] Sum1 { get; } = new double[s.Window * s.DModel];
        public double[] Norm1Output { get; } = new double[s.Window * s.DModel];
        public double[] Norm1InverseStd { get; } = new double[s.Window];
        public double[] Hidden { get; } = new double[s.Window * s.FfnDim];
        public double[] Ffn { get; } = new double[s.Window * s.DModel];
        public double[] Sum2 { get; } = new double[s.Window * s.DModel];
        public double[] Norm2Output { get; } = new double[s.Window * s.DModel];
        public double[] Norm2InverseStd { get; } = new double[s.Window];

        public double[] QGradient { get; } = new double[s.Window * s.DModel];
        public double[] KGradient { get; } = new double[s.Window * s.DModel];
        public double[] VGradient { get; } = new double[s.Window * s.DModel];
        public double[] ContextGradient { get; } = new double[s.Window * s.DModel];
        public double[] Sum1Gradient { get; } = new double[s.Window * s.DModel];
        public double[] Norm1OutputGradient { get; } = new double[s.Window * s.DModel];
        public double[] HiddenGradient { get; } = new double[s.Window * s.FfnDim];
        public double[] Sum2Gradient { get; } = new double[s.Window * s.DModel];
        public double[] Norm2OutputGradient { get; } = new double[s.Window * s.DModel];
        public double[] RowScratch { get; } = new double[s.Window];

        // Quantized forward only: the scores (the float forward turns them into probabilities in place), the
        // gradients of the two layers whose gradient the float backward shares with a residual branch, and the masks.
        public double[] Scores { get; } = new double[s.Heads * s.Window * s.Window];
        public double[] FfnGradient { get; } = new double[s.Window * s.DModel];
        public double[] AttentionGradient { get; } = new double[s.Window * s.DModel];
        public double[] QMask { get; } = new double[s.Window * s.DModel];
        public double[] KMask { get; } = new double[s.Window * s.DModel];
        public double[] VMask { get; } = new double[s.Window * s.DModel];
        public double[] ScoresMask { get; } = new double[s.Heads * s.Window * s.Window];
        public double[] ProbabilitiesMask { get; } = new double[s.Heads * s.Window * s.Window];
        public double[] ContextMask { get; } = new double[s.Window * s.DModel];
        public double[] AttentionMask { get; } = new double[s.Window * s.DModel];
        public double[] Sum1Mask { get; } = new double[s.Window * s.DModel];
        public double[] Norm1Mask { get; } = new double[s.Window * s.DModel];
        public double[] HiddenMask { get; } = new double[s.Window * s.FfnDim];
        public double[] FfnMask { get; } = new double[s.Window * s.DModel];
        public double[] Sum2Mask { get; } = new double[s.Window * s.DModel];
        public double[] Norm2Mask { get; } = new double[s.Window * s.DModel];
    }
}
