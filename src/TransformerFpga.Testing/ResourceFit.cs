namespace TransformerFpga.Hardware;

/// <summary>One module measured by synthesis: its kind, its features (which of them may take negative coefficients) and what synthesis used.</summary>
public sealed record ModuleSample(ModuleKind Kind, double[] Features, IReadOnlySet<int> SignedFeatures, Resources Measured);

/// <summary>Fits the per-kind LUT, FF and LUT-RAM coefficients to measured modules (non-negative least squares).</summary>
public static class ResourceFit
{
    public static ResourceCoefficients Fit(IEnumerable<ModuleSample> samples, string source, ResourceCoefficients? fallback = null)
    {
        var result = new ResourceCoefficients { Source = source };
        foreach (var group in samples.GroupBy(s => s.Kind).OrderBy(g => g.Key))
        {
            var rows = group.Select(s => s.Features).ToList();
            var signed = group.First().SignedFeatures;
            double[] Solve(Func<Resources, int> pick, bool relative) => LeastSquares.FitNonNegative(rows, group.Select(s => (double)pick(s.Measured)).ToList(),
                relative ? group.Select(s => 1.0 / Math.Max(20, pick(s.Measured))).ToList() : null, signed: signed);
            result.Kinds[group.Key.ToString()] = new KindCoefficients
            {
                Lut = Solve(r => r.Lut, relative: false),
                // Flip-flops weighted by 1 / size: flattening takes a few from every layer, which the large modules alone would not show.
                Ff = Solve(r => r.Ff, relative: true),
                LutRam = Solve(r => r.LutRam, relative: false),
            };
        }
        if (fallback is not null)
            foreach (var (kind, c) in fallback.Kinds)
                result.Kinds.TryAdd(kind, c);
        return result;
    }
}
