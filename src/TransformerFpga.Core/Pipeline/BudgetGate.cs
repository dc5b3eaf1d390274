using System.Globalization;
using TransformerFpga.Diagnostics;
using TransformerFpga.Hardware;
using TransformerFpga.Integer;

namespace TransformerFpga.Pipeline;

/// <summary>
/// The build's resource gate: one TFPGA1nn diagnostic per resource over budget, naming used vs
/// available, the three largest consumers and the smallest change found that fits.
/// </summary>
public static class BudgetGate
{
    public static readonly IReadOnlyDictionary<string, string> Codes = new Dictionary<string, string>
    {
        ["LUT"] = "TFPGA101", ["LUTRAM"] = "TFPGA102", ["FF"] = "TFPGA103", ["BRAM18"] = "TFPGA104", ["DSP"] = "TFPGA105",
    };

    /// <summary>A change to the plan, as the user would write it.</summary>
    public sealed record Change(string Description, LayerPlan Plan);

    /// <param name="estimate">Estimates a plan (regenerating its hardware).</param>
    public static IReadOnlyList<FpgaDiagnostic> Check(DesignEstimate design, LayerPlan plan, Func<LayerPlan, DesignEstimate> estimate,
        bool asWarning, string projectFile, CancellationToken cancellation)
    {
        var over = design.OverBudget;
        if (over.Count == 0) return [];
        var (changes, fitted) = SearchFix(design, plan, estimate, cancellation);
        string fix = fitted is null
            ? "no change of buffer memory, lanes, multipliers or bits found that fits; reduce dModel/ffnDim or choose a larger part (FpgaPart)"
            : "smallest change found that fits: " + string.Join(" and ", changes.Select(c => c.Description)) + " → " + fitted.SummaryLine();
        var diagnostics = new List<FpgaDiagnostic>();
        foreach (var (resource, used, available) in over)
        {
            var top = design.Layers.OrderByDescending(l => DesignEstimate.Pick(l.Resources, resource)).ThenBy(l => l.Name, StringComparer.Ordinal).Take(3)
                .Select(l => string.Create(CultureInfo.InvariantCulture, $"{l.Name} {DesignEstimate.Pick(l.Resources, resource):N0}"));
            string message = string.Create(CultureInfo.InvariantCulture,
                $"{resource} {used:N0} used, {available:N0} available ({design.LimitPercent:0.#} % of {design.Part}); largest consumers: {string.Join(", ", top)}; {fix}");
            diagnostics.Add(new FpgaDiagnostic(asWarning ? Severity.Warning : Severity.Error, Codes[resource], projectFile, 0, message));
        }
        return diagnostics;
    }

    /// <summary>Greedy over single changes to the largest consumers: at most four changes, each the one that removes most overflow.</summary>
    public static (IReadOnlyList<Change> Changes, DesignEstimate? Fitted) SearchFix(DesignEstimate design, LayerPlan plan, Func<LayerPlan, DesignEstimate> estimate, CancellationToken cancellation)
    {
        var applied = new List<Change>();
        var current = design;
        var currentPlan = plan;
        for (int step = 0; step < 4 && !current.Fits; step++)
        {
            Change? best = null;
            DesignEstimate? bestEstimate = null;
            double bestOverflow = Overflow(current);
            foreach (var change in Candidates(current, currentPlan))
            {
                cancellation.ThrowIfCancellationRequested();
                var candidate = estimate(change.Plan);
                double overflow = Overflow(candidate);
                if (overflow < bestOverflow - 1e-9)
                {
                    (best, bestEstimate, bestOverflow) = (change, candidate, overflow);
                    if (overflow == 0) break;
                }
            }
            if (best is null) return (applied, null);
            applied.Add(best);
            (current, currentPlan) = (bestEstimate!, best.Plan);
        }
        return current.Fits ? (applied, current) : (applied, null);
    }

    /// <summary>Sum over resources of the share by which the budget is exceeded.</summary>
    private static double Overflow(DesignEstimate d)
    {
        var t = d.Total;
        var b = d.Budget;
        double Part(int used, int available) => used <= available ? 0 : (used - available) / (double)Math.Max(1, available);
        return Part(t.Lut, b.Lut) + Part(t.LutRam, b.LutRam) + Part(t.Ff, b.Ff) + Part(t.Bram18, b.Bram18) + Part(t.Dsp, b.Dsp);
    }

    private static IEnumerable<Change> Candidates(DesignEstimate design, LayerPlan plan)
    {
        var layers = design.OverBudget
            .SelectMany(o => design.Layers.Where(l => plan.LayerNames.Contains(l.Name)).OrderByDescending(l => DesignEstimate.Pick(l.Resources, o.Resource)).Take(3))
            .Select(l => l.Name).Distinct().ToList();
        LayerPlan With(string layer, LayerChoice choice) => LayerPlan.From(plan.LayerNames, n => n == layer ? choice : plan[n]);
        foreach (var layer in layers)
        {
            var c = plan[layer];
            var row = design.Layers.First(l => l.Name == layer);
            if (row.BufferResource == "Distributed")
                yield return new($"set BufferResource {layer} to Block", With(layer, c with { Buffer = BufferResource.Block }));
            if (row.BufferResource == "Block")
                yield return new($"set BufferResource {layer} to Distributed", With(layer, c with { Buffer = BufferResource.Distributed }));
            if (c.Multiplier != MultiplierMapping.Lut && row.Resources.Dsp > 0)
                yield return new($"set Multiplier of {layer} to Lut", With(layer, c with { Multiplier = MultiplierMapping.Lut }));
            if (row.Lanes > 1)
                yield return new($"set Lanes of {layer} to {row.Lanes / 2}", With(layer, c with { Lanes = row.Lanes / 2, LanesExplicit = true }));
            if (c.Bits.WeightBits > 4)
                yield return new($"set WeightBits of {layer} to {c.Bits.WeightBits - 2}", With(layer, c with { Bits = c.Bits with { WeightBits = c.Bits.WeightBits - 2 } }));
        }
    }
}
