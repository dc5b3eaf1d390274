using TransformerFpga.Pipeline;

namespace TransformerFpga.Hardware;

/// <summary>
/// Decides the layers left at <c>Auto</c>: buffer memory (block RAM or LUT RAM) and multiplier
/// mapping (DSP48E1 or LUTs). The rule: start from block RAM for buffers of at least
/// <see cref="Hdl.HardwareModel.AutoBlockRamBits"/> bits and DSPs everywhere; while the design is over
/// budget, apply the single switch (one layer's multipliers to LUTs, or one buffer to the other
/// memory) that removes the most overflow per unit of device area it adds, as long as one removes any.
/// Choices the project states explicitly are never changed.
/// </summary>
public static class AutoMapping
{
    public sealed record Result(LayerPlan Plan, DesignEstimate Estimate, IReadOnlyList<string> Switches);

    public static Result Resolve(LayerPlan plan, Func<LayerPlan, DesignEstimate> estimate)
    {
        var start = plan.With(n => plan[n].Multiplier == MultiplierMapping.Auto ? plan[n] with { Multiplier = MultiplierMapping.Dsp } : plan[n]);
        var first = estimate(start);
        var rows = first.Layers.ToDictionary(l => l.Name, StringComparer.Ordinal);
        // Pin the threshold's buffer choice so that the switches below are explicit.
        var baseline = start.With(n => start[n].Buffer == BufferResource.Auto && rows[n].BufferResource is "Block" or "Distributed"
            ? start[n] with { Buffer = Enum.Parse<BufferResource>(rows[n].BufferResource) }
            : start[n]);
        if (first.Fits) return new Result(baseline, first, []);

        var autoMultipliers = plan.LayerNames.Where(n => plan[n].Multiplier == MultiplierMapping.Auto && rows[n].Resources.Dsp > 0).ToList();
        var autoBuffers = plan.LayerNames.Where(n => plan[n].Buffer == BufferResource.Auto && rows[n].BufferResource is "Block" or "Distributed").ToList();
        var moves = new List<Move>();
        if (autoMultipliers.Count > 0)
        {
            var lut = estimate(baseline.With(n => autoMultipliers.Contains(n) ? baseline[n] with { Multiplier = MultiplierMapping.Lut } : baseline[n]));
            moves.AddRange(Moves(autoMultipliers, first, lut, n => $"{n}: multipliers in LUTs", c => c with { Multiplier = MultiplierMapping.Lut }));
        }
        if (autoBuffers.Count > 0)
        {
            static BufferResource Other(BufferResource b) => b == BufferResource.Block ? BufferResource.Distributed : BufferResource.Block;
            var flipped = estimate(baseline.With(n => autoBuffers.Contains(n) ? baseline[n] with { Buffer = Other(baseline[n].Buffer) } : baseline[n]));
            moves.AddRange(Moves(autoBuffers, first, flipped, n => $"{n}: buffer in {Other(baseline[n].Buffer)} RAM", c => c with { Buffer = Other(c.Buffer) }));
        }

        var total = first.Total;
        var chosen = new List<Move>();
        while (DesignEstimate.Overflow(total, first.Budget) > 0)
        {
            Move? best = null;
            double bestScore = 0;
            foreach (var move in moves.Where(m => !chosen.Contains(m)))
            {
                double gain = DesignEstimate.Overflow(total, first.Budget) - DesignEstimate.Overflow(total + move.Delta, first.Budget);
                if (gain <= 1e-12) continue;
                double score = gain / Math.Max(1e-6, first.Device.AreaFraction(Positive(move.Delta)));
                if (score > bestScore + 1e-12) (best, bestScore) = (move, score);
            }
            if (best is null) break;
            chosen.Add(best);
            total += best.Delta;
        }
        if (chosen.Count == 0) return new Result(baseline, first, []);
        var resolved = baseline.With(n => chosen.Where(m => m.Layer == n).Aggregate(baseline[n], (c, m) => m.Apply(c)));
        return new Result(resolved, estimate(resolved), chosen.Select(m => m.Description).ToList());
    }

    /// <summary>
    /// <see cref="Resolve"/>, and for an engine whose lanes the project left open the most lanes, from the plan's
    /// down by halves, with which the resolved design fits (the plan's when none does).
    /// </summary>
    public static Result ResolveEngineLanes(LayerPlan plan, Func<LayerPlan, DesignEstimate> estimate)
    {
        if (plan.Engine is not { LanesExplicit: false } engine) return Resolve(plan, estimate);
        Result? widest = null;
        for (int lanes = engine.Lanes; lanes >= 1; lanes /= 2)
        {
            var result = Resolve(plan.WithEngine(engine with { Lanes = lanes }), estimate);
            widest ??= result;
            if (result.Estimate.Fits)
                return lanes == engine.Lanes ? result : result with { Switches = [$"engine: {lanes} lanes", .. result.Switches] };
        }
        return widest!;
    }

    private sealed record Move(string Layer, string Description, Resources Delta, Func<LayerChoice, LayerChoice> Apply);

    private static IEnumerable<Move> Moves(List<string> layers, DesignEstimate before, DesignEstimate after, Func<string, string> describe, Func<LayerChoice, LayerChoice> apply)
    {
        var deltas = before.LayerChanges(after);
        return before.Layers.Where(l => layers.Contains(l.Name)).Select(l => new Move(l.Name, describe(l.Name), deltas[l.Name], apply));
    }

    private static Resources Positive(Resources r) => new(Math.Max(0, r.Lut), Math.Max(0, r.LutRam), Math.Max(0, r.Ff), Math.Max(0, r.Bram18), Math.Max(0, r.Dsp));
}
