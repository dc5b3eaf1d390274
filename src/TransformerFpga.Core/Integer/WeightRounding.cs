using TransformerFpga.Float;
using TransformerFpga.Model;
using TransformerFpga.Quantization;

namespace TransformerFpga.Integer;

/// <summary>
/// Error-compensating weight rounding (the optimal-brain-quantization step of GPTQ, Frantar et al. 2023): a linear
/// layer's weights are rounded one input feature at a time, and each rounding error is spread over the features not yet
/// rounded so as to keep the layer's outputs on the calibration inputs, through the inverse of the inputs' second
/// moment matrix H = Σ x·xᵀ. The scale stays the tensor's, and only the integer weights change: the hardware is the
/// same.
/// </summary>
public static class WeightRounding
{
    /// <summary>
    /// Narrower weights round to nearest: with 15 levels the compensation pushes weights into the range's ends, and the
    /// family's integer models moved further from their float models (see docs/integer-arithmetic.md).
    /// </summary>
    public const int MinWeightBits = 6;

    /// <summary>Σ x·xᵀ / rows of every linear layer's float inputs over the windows, [In × In] row-major.</summary>
    public static IReadOnlyDictionary<string, double[]> SecondMoments(FloatTransformer model, ModelConfig config, IReadOnlyList<float[]> windows)
    {
        var sums = new Dictionary<string, (double[] H, int In, long Rows)>(StringComparer.Ordinal);
        void Add(string layer, double[] x, int inFeatures)
        {
            if (!sums.TryGetValue(layer, out var s)) s = (new double[inFeatures * inFeatures], inFeatures, 0);
            int rows = x.Length / inFeatures;
            for (int r = 0; r < rows; r++)
                for (int i = 0; i < inFeatures; i++)
                {
                    double xi = x[r * inFeatures + i];
                    if (xi == 0) continue;
                    for (int j = i; j < inFeatures; j++) s.H[i * inFeatures + j] += xi * x[r * inFeatures + j];
                }
            sums[layer] = (s.H, inFeatures, s.Rows + rows);
        }
        int d = config.DModel;
        foreach (var window in windows)
        {
            Add("embedding", window.Select(v => (double)v).ToArray(), config.InputFeatures);
            model.Forward(window, (layer, values) =>
            {
                // Each linear layer's input is an observed output: the block's input for Q/K/V, the context for the
                // projection, the first norm for fc1, fc1 (after its ReLU) for fc2, the pool for the head.
                if (layer == "posenc" || layer.EndsWith(".norm2", StringComparison.Ordinal))
                {
                    int e = layer == "posenc" ? 0 : int.Parse(layer["encoder".Length..layer.IndexOf('.')], System.Globalization.CultureInfo.InvariantCulture) + 1;
                    if (e < config.EncoderLayers)
                        foreach (var p in new[] { "attn.q", "attn.k", "attn.v" }) Add($"encoder{e}.{p}", values, d);
                }
                else if (layer.EndsWith(".attn.context", StringComparison.Ordinal)) Add(layer.Replace("attn.context", "attn.out"), values, d);
                else if (layer.EndsWith(".norm1", StringComparison.Ordinal)) Add(layer.Replace("norm1", "ffn.fc1"), values, d);
                else if (layer.EndsWith(".ffn.relu", StringComparison.Ordinal)) Add(layer.Replace("ffn.relu", "ffn.fc2"), values, config.FfnDim);
                else if (layer == "pool") Add("head", values, d);
            });
        }
        // Only the upper triangle was summed: mirror it.
        return sums.ToDictionary(kv => kv.Key, kv =>
        {
            var (h, n, rows) = kv.Value;
            var full = new double[n * n];
            for (int i = 0; i < n; i++)
                for (int j = i; j < n; j++) full[i * n + j] = full[j * n + i] = h[i * n + j] / rows;
            return full;
        }, StringComparer.Ordinal);
    }

    /// <summary>The weights [Out × In] rounded at <paramref name="scale"/> with the errors compensated through H.</summary>
    public static int[] Round(float[] weights, int outFeatures, int inFeatures, QuantScale scale, double[] secondMoment)
    {
        int n = inFeatures;
        var h = (double[])secondMoment.Clone();
        // Damping: 1 % of the mean diagonal keeps H invertible (features that never vary, dead ReLU outputs).
        double damp = 0.01 * Enumerable.Range(0, n).Average(i => h[i * n + i]) + 1e-12;
        for (int i = 0; i < n; i++) h[i * n + i] += damp;
        var u = UpperCholeskyOfInverse(h, n);
        var w = weights.Select(v => (double)v).ToArray();
        var q = new int[weights.Length];
        for (int j = 0; j < n; j++)
            for (int o = 0; o < outFeatures; o++)
            {
                int k = o * n;
                q[k + j] = scale.Quantize(w[k + j]);
                double error = (w[k + j] - scale.Dequantize(q[k + j])) / u[j * n + j];
                for (int m = j + 1; m < n; m++) w[k + m] -= error * u[j * n + m];
            }
        return q;
    }

    /// <summary>U upper triangular with Uᵀ·U = H⁻¹ (H symmetric positive definite, [n × n]).</summary>
    private static double[] UpperCholeskyOfInverse(double[] h, int n)
    {
        // H = L·Lᵀ; H⁻¹ = L⁻ᵀ·L⁻¹; then the upper Cholesky factor of H⁻¹.
        var l = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                double s = h[i * n + j];
                for (int k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
                l[i * n + j] = i == j ? Math.Sqrt(Math.Max(s, 1e-300)) : s / l[j * n + j];
            }
        var li = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            li[i * n + i] = 1 / l[i * n + i];
            for (int j = 0; j < i; j++)
            {
                double s = 0;
                for (int k = j; k < i; k++) s -= l[i * n + k] * li[k * n + j];
                li[i * n + j] = s / l[i * n + i];
            }
        }
        var inv = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = Math.Max(i, j); k < n; k++) s += li[k * n + i] * li[k * n + j];
                inv[i * n + j] = s;
            }
        // Upper Cholesky of inv: inv = Uᵀ·U.
        var u = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            double s = inv[i * n + i];
            for (int k = 0; k < i; k++) s -= u[k * n + i] * u[k * n + i];
            u[i * n + i] = Math.Sqrt(Math.Max(s, 1e-300));
            for (int j = i + 1; j < n; j++)
            {
                double t = inv[i * n + j];
                for (int k = 0; k < i; k++) t -= u[k * n + i] * u[k * n + j];
                u[i * n + j] = t / u[i * n + i];
            }
        }
        return u;
    }
}
