using TransformerFpga.Model;

namespace TransformerFpga.Float;

/// <summary>
/// The float reference: PyTorch eval-mode semantics of the model, computed in double.
/// An optional observer sees every named layer's output (used for calibration).
/// </summary>
public sealed class FloatTransformer
{
    private readonly ModelConfig _config;
    private readonly TransformerWeights _weights;
    private readonly double[] _positional;

    public FloatTransformer(ModelConfig config, TransformerWeights weights)
    {
        _config = config;
        _weights = weights;
        _positional = PositionalEncoding(config.Window, config.DModel);
    }

    /// <summary>Vaswani's sinusoidal encoding, [t * d + i].</summary>
    public static double[] PositionalEncoding(int window, int d)
    {
        var pe = new double[window * d];
        for (int t = 0; t < window; t++)
            for (int i = 0; i < d; i++)
            {
                double angle = t / Math.Pow(10000.0, (i - i % 2) / (double)d);
                pe[t * d + i] = i % 2 == 0 ? Math.Sin(angle) : Math.Cos(angle);
            }
        return pe;
    }

    public delegate void LayerObserver(string layer, double[] values);

    /// <summary>Forward pass of one normalized window [t * features + f]; returns the normalized outputs.</summary>
    public double[] Forward(ReadOnlySpan<float> input, LayerObserver? observe = null)
    {
        int w = _config.Window, d = _config.DModel, f = _config.InputFeatures;
        var x = new double[w * f];
        for (int i = 0; i < x.Length; i++) x[i] = input[i];
        var h = Linear(x, w, _weights.Embedding);
        observe?.Invoke("embedding", h);
        for (int i = 0; i < h.Length; i++) h[i] += _positional[i];
        observe?.Invoke("posenc", h);
        for (int e = 0; e < _weights.Encoders.Length; e++)
            h = Encoder(h, _weights.Encoders[e], "encoder" + e + ".", observe);
        var pooled = new double[d];
        for (int t = 0; t < w; t++)
            for (int c = 0; c < d; c++) pooled[c] += h[t * d + c];
        for (int c = 0; c < d; c++) pooled[c] /= w;
        observe?.Invoke("pool", pooled);
        var y = Linear(pooled, 1, _weights.Head);
        observe?.Invoke("head", y);
        return y;
    }

    private double[] Encoder(double[] x, EncoderWeights p, string prefix, LayerObserver? observe)
    {
        int w = _config.Window, d = _config.DModel, heads = _config.Heads, dh = _config.HeadDim;
        var q = Linear(x, w, p.Q); observe?.Invoke(prefix + "attn.q", q);
        var k = Linear(x, w, p.K); observe?.Invoke(prefix + "attn.k", k);
        var v = Linear(x, w, p.V); observe?.Invoke(prefix + "attn.v", v);
        double scale = 1.0 / Math.Sqrt(dh);
        var scores = new double[heads * w * w];
        for (int hd = 0; hd < heads; hd++)
            for (int i = 0; i < w; i++)
                for (int j = 0; j < w; j++)
                {
                    double s = 0;
                    for (int c = 0; c < dh; c++) s += q[i * d + hd * dh + c] * k[j * d + hd * dh + c];
                    scores[(hd * w + i) * w + j] = s * scale;
                }
        observe?.Invoke(prefix + "attn.scores", scores);
        var probabilities = new double[scores.Length];
        for (int row = 0; row < heads * w; row++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < w; j++) max = Math.Max(max, scores[row * w + j]);
            double sum = 0;
            for (int j = 0; j < w; j++) sum += probabilities[row * w + j] = Math.Exp(scores[row * w + j] - max);
            for (int j = 0; j < w; j++) probabilities[row * w + j] /= sum;
        }
        observe?.Invoke(prefix + "attn.softmax", probabilities);
        var context = new double[w * d];
        for (int hd = 0; hd < heads; hd++)
            for (int i = 0; i < w; i++)
                for (int c = 0; c < dh; c++)
                {
                    double s = 0;
                    for (int j = 0; j < w; j++) s += probabilities[(hd * w + i) * w + j] * v[j * d + hd * dh + c];
                    context[i * d + hd * dh + c] = s;
                }
        observe?.Invoke(prefix + "attn.context", context);
        var attention = Linear(context, w, p.Out); observe?.Invoke(prefix + "attn.out", attention);
        var sum1 = Add(x, attention); observe?.Invoke(prefix + "add1", sum1);
        var n1 = Norm(sum1, p.Norm1); observe?.Invoke(prefix + "norm1", n1);
        var hidden = Linear(n1, w, p.Fc1);
        for (int i = 0; i < hidden.Length; i++) hidden[i] = Math.Max(0, hidden[i]);
        observe?.Invoke(prefix + "ffn.fc1", hidden);
        observe?.Invoke(prefix + "ffn.relu", hidden);
        var ffn = Linear(hidden, w, p.Fc2); observe?.Invoke(prefix + "ffn.fc2", ffn);
        var sum2 = Add(n1, ffn); observe?.Invoke(prefix + "add2", sum2);
        var n2 = Norm(sum2, p.Norm2); observe?.Invoke(prefix + "norm2", n2);
        return n2;
    }

    private static double[] Linear(double[] x, int rows, LinearWeights l)
    {
        var y = new double[rows * l.Out];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < l.Out; o++)
            {
                double s = l.B[o];
                for (int i = 0; i < l.In; i++) s += x[r * l.In + i] * (double)l.W[o * l.In + i];
                y[r * l.Out + o] = s;
            }
        return y;
    }

    private static double[] Add(double[] a, double[] b)
    {
        var y = new double[a.Length];
        for (int i = 0; i < a.Length; i++) y[i] = a[i] + b[i];
        return y;
    }

    private double[] Norm(double[] x, NormWeights n)
    {
        int d = _config.DModel, rows = x.Length / d;
        var y = new double[x.Length];
        const double eps = 1e-5;
        if (_config.Norm == NormKind.Batch)
        {
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < d; c++)
                    y[r * d + c] = (x[r * d + c] - n.RunningMean![c]) / Math.Sqrt(n.RunningVar![c] + eps) * n.Weight[c] + n.Bias[c];
            return y;
        }
        for (int r = 0; r < rows; r++)
        {
            double mean = 0, variance = 0;
            for (int c = 0; c < d; c++) mean += x[r * d + c];
            mean /= d;
            for (int c = 0; c < d; c++) variance += (x[r * d + c] - mean) * (x[r * d + c] - mean);
            variance /= d;
            double inv = 1.0 / Math.Sqrt(variance + eps);
            for (int c = 0; c < d; c++) y[r * d + c] = (x[r * d + c] - mean) * inv * n.Weight[c] + n.Bias[c];
        }
        return y;
    }
}
