namespace TransformerFpga.Quantization;

/// <summary>
/// What calibration keeps of one tensor's float values: a histogram of |x| (positive and negative values apart, exact
/// zeros counted on their own) and the exact max |x|. Its bins cover [0, range); when a value reaches the range, the range
/// doubles and adjacent bins merge, so one pass over the calibration windows suffices and a bin is always at most
/// max/<see cref="Bins"/>·2 wide.
/// </summary>
public sealed class ActivationHistogram
{
    public const int Bins = 4096;

    private readonly long[] _positive = new long[Bins], _negative = new long[Bins];
    private double _range;

    public double Max { get; private set; }
    public long Count { get; private set; }

    public void Add(double value)
    {
        Count++;
        if (value == 0 || !double.IsFinite(value)) return;
        double a = Math.Abs(value);
        if (a > Max) Max = a;
        if (_range == 0) _range = 2 * a;
        while (a >= _range) Grow();
        int bin = Math.Min(Bins - 1, (int)(a / _range * Bins));
        (value > 0 ? _positive : _negative)[bin]++;
    }

    private void Grow()
    {
        foreach (var counts in new[] { _positive, _negative })
        {
            for (int i = 0; i < Bins / 2; i++) counts[i] = counts[2 * i] + counts[2 * i + 1];
            Array.Clear(counts, Bins / 2, Bins / 2);
        }
        _range *= 2;
    }

    /// <summary>
    /// The clipping range c (the scale is c / (2^(b-1) - 1), as <see cref="QuantScale.ForRange"/>) that minimises the
    /// squared error of clip-and-round at <paramref name="bits"/> summed over the histogram, each bin's values taken at its
    /// centre (capped at the max). Searched on a grid of max·j/128 (j = 1 … 128), then on a grid 64 times finer around
    /// the best; ties keep the wider range, so a tensor without outliers keeps its max.
    /// </summary>
    public double MinimumErrorRange(int bits)
    {
        if (Max == 0) return 0;
        var centres = new List<double>();
        var counts = new List<long>();
        var negative = new List<bool>();
        double width = _range / Bins;
        for (int i = 0; i < Bins; i++)
        {
            double centre = Math.Min(Max, (i + 0.5) * width);
            if (_positive[i] > 0) { centres.Add(centre); counts.Add(_positive[i]); negative.Add(false); }
            if (_negative[i] > 0) { centres.Add(centre); counts.Add(_negative[i]); negative.Add(true); }
        }
        int levels = (1 << (bits - 1)) - 1;
        double Error(double clip)
        {
            double scale = clip / levels, sum = 0;
            for (int i = 0; i < centres.Count; i++)
            {
                double v = centres[i];
                // |x| rounds half away from zero; the negative side saturates one step further out.
                double q = Math.Min(Math.Floor(v / scale + 0.5), negative[i] ? levels + 1 : levels);
                double e = v - q * scale;
                sum += counts[i] * e * e;
            }
            return sum;
        }

        const int coarse = 128, fine = 64;
        double best = Max, bestError = Error(Max);
        for (int j = coarse - 1; j >= 1; j--)
        {
            double clip = Max * j / coarse, error = Error(clip);
            if (error < bestError) (best, bestError) = (clip, error);
        }
        double step = Max / coarse / fine, centreOfSearch = best;
        for (int j = fine - 1; j >= -fine + 1; j--)
        {
            double clip = centreOfSearch + j * step;
            if (j == 0 || clip <= 0 || clip > Max) continue;
            double error = Error(clip);
            if (error < bestError) (best, bestError) = (clip, error);
        }
        return best;
    }
}

/// <summary>How calibration turns a tensor's values into its quantization range.</summary>
public enum ActivationClipping
{
    /// <summary>The max |x| over the calibration windows: nothing saturates on them.</summary>
    Maximum,
    /// <summary>The clipping range with the least mean squared clip-and-round error at the tensor's bits.</summary>
    MinimumError,
}

/// <summary>
/// The calibrated activation ranges of a model: per layer output (by layer name), for the whole model input
/// ("input") and for each input feature ("input[f]"), the range that <see cref="QuantScale.ForRange"/> turns into a
/// scale at the bits of the plan. The range depends on the bits (<see cref="ActivationClipping.MinimumError"/>), so it
/// is chosen when the model is quantized and remembered per name and bits.
/// </summary>
public sealed class ActivationRanges
{
    private readonly IReadOnlyDictionary<string, ActivationHistogram> _histograms;
    private readonly IReadOnlyDictionary<string, double> _fixed;
    private readonly Dictionary<(string, int), double> _chosen = new();

    public ActivationRanges(IReadOnlyDictionary<string, ActivationHistogram> histograms, ActivationClipping clipping,
        IReadOnlyDictionary<string, double>? fixedRanges = null)
    {
        _histograms = histograms;
        Clipping = clipping;
        _fixed = fixedRanges ?? new Dictionary<string, double>(StringComparer.Ordinal);
    }

    public ActivationClipping Clipping { get; }

    public static string InputFeature(int feature) => "input[" + feature.ToString(System.Globalization.CultureInfo.InvariantCulture) + "]";

    /// <summary>Max |x| over the calibration windows.</summary>
    public double Max(string name) => _fixed.TryGetValue(name, out double r) ? r : _histograms[name].Max;

    /// <summary>The quantization range of a tensor at the given bits.</summary>
    public double Range(string name, int bits)
    {
        if (_fixed.TryGetValue(name, out double r)) return r;
        if (Clipping == ActivationClipping.Maximum) return _histograms[name].Max;
        var only = Environment.GetEnvironmentVariable("TFPGA_PTQ_ONLY");
        if (only is not null && !only.Split(',').Any(o => name.Contains(o, StringComparison.Ordinal))) return _histograms[name].Max;
        var not = Environment.GetEnvironmentVariable("TFPGA_PTQ_NOT");
        if (not is not null && not.Split(',').Any(o => name.Contains(o, StringComparison.Ordinal))) return _histograms[name].Max;
        lock (_chosen)
        {
            if (!_chosen.TryGetValue((name, bits), out r)) _chosen[(name, bits)] = r = _histograms[name].MinimumErrorRange(bits);
            return r;
        }
    }

    /// <summary>The same calibration with one tensor's range fixed, whatever the bits.</summary>
    public ActivationRanges With(string name, double range)
    {
        var ranges = new Dictionary<string, double>(_fixed, StringComparer.Ordinal) { [name] = range };
        return new ActivationRanges(_histograms, Clipping, ranges);
    }
}
