namespace TransformerFpga.Hardware;

/// <summary>One module measured by synthesis: its kind, its features and what synthesis used.</summary>
public sealed record ModuleSample(ModuleKind Kind, double[] Features, Resources Measured);

/// <summary>Fits the per-kind LUT, FF and LUT-RAM coefficients to measured modules (non-negative least squares).</summary>
public static class ResourceFit
{
    public static ResourceCoefficients Fit(IEnumerable<ModuleSample> samples, string source, ResourceCoefficients? fallback = null)
    {
        var result = new ResourceCoefficients { Source = source };
        foreach (var group in samples.GroupBy(s => s.Kind).OrderBy(g => g.Key))
        {
            var rows = group.Select(s => s.Features).ToList();
            double[] Solve(Func<Resources, int> pick) => LeastSquares.FitNonNegative(rows, group.Select(s => (double)pick(s.Measured)).ToList());
            result.Kinds[group.Key.ToString()] = new KindCoefficients { Lut = Solve(r => r.Lut), Ff = Solve(r => r.Ff), LutRam = Solve(r => r.LutRam) };
        }
        if (fallback is not null)
            foreach (var (kind, c) in fallback.Kinds)
                result.Kinds.TryAdd(kind, c);
        return result;
    }
}
