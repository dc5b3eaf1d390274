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

        // (a layer another's instance runs has its DSP48E1 in that layer's row)
        var autoMultipliers = plan.LayerNames.Where(n => plan[n].Multiplier == MultiplierMapping.Auto
            && (rows[n].Resources.Dsp > 0 || rows[n].RunsOn is { } owner && rows[owner].Resources.Dsp > 0)).ToList();
        var autoBuffers = plan.LayerNames.Where(n => plan[n].Buffer == BufferResource.Auto && rows[n].BufferResource is "Block" or "Distributed").ToList();
        var moves = new List<Move>();
        if (autoMultipliers.Count > 0)
        {
            var lut = estimate(baseline.With(n => autoMultipliers.Contains(n) ? baseline[n] with { Multiplier = MultiplierMapping.Lut } : baseline[n]));
            moves.AddRange(Moves(autoMultipliers, first, lut, n => $"{n}: multipliers in LUTs", c => c with { Multiplier = MultiplierMapping.Lut }, byInstance: true));
        }
        if (autoBuffers.Count > 0)
        {
            static BufferResource Other(BufferResource b) => b == BufferResource.Block ? BufferResource.Distributed : BufferResource.Block;
            var flipped = estimate(baseline.With(n => autoBuffers.Contains(n) ? baseline[n] with { Buffer = Other(baseline[n].Buffer) } : baseline[n]));
            moves.AddRange(Moves(autoBuffers, first, flipped, n => $"{n}: buffer in {Other(baseline[n].Buffer)} RAM", c => c with { Buffer = Other(c.Buffer) }, byInstance: false));
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
        var resolved = baseline.With(n => chosen.Where(m => m.Layers.Contains(n)).Aggregate(baseline[n], (c, m) => m.Apply(c)));
        return new Result(resolved, estimate(resolved), chosen.SelectMany(m => m.Descriptions).ToList());
    }

    /// <summary>
    /// <see cref="Resolve"/> for an engine design, whose engine is Auto too: when the design does not fit, the engine
    /// moves the lanes the DSP48E1 budget lacks to LUT multipliers, and its weight ROM to the other memory; and when the
    /// project left the lanes open, it takes the most lanes, from the plan's down by halves, with which the design then
    /// fits (the plan's lanes when none does).
    /// </summary>
    public static Result ResolveEngineLanes(LayerPlan plan, Func<LayerPlan, DesignEstimate> estimate)
    {
        if (plan.Engine is not { } engine) return Resolve(plan, estimate);
        Result? widest = null;
        for (int lanes = engine.Lanes; lanes >= 1; lanes /= 2)
        {
            var result = ResolveEngine(plan.WithEngine(engine with { Lanes = lanes }), estimate);
            widest ??= result;
            if (result.Estimate.Fits || engine.LanesExplicit)
                return lanes == engine.Lanes ? result : result with { Switches = [$"engine: {lanes} lanes", .. result.Switches] };
        }
        return widest!;
    }

    /// <summary>
    /// One lane count: as it is when it fits; otherwise, of the engine with the DSP48E1 lanes the budget lacks in LUTs (as
    /// Resolve left the other layers, or with all of them on DSP48E1), with its weight ROM in block RAM or in LUTs, and
    /// both, the one that fits with the most room left (<see cref="Fuller"/>).
    /// When none fits, the weights are split: the smallest layers' weights (left at Auto) move to LUTs one more at a time,
    /// the rest in block RAM, until the design fits (<see cref="SplitWeights"/>).
    /// </summary>
    private static Result ResolveEngine(LayerPlan plan, Func<LayerPlan, DesignEstimate> estimate)
    {
        var engine = plan.Engine!;
        var first = Resolve(plan, estimate);
        if (first.Estimate.Fits || engine.LutMultipliers && engine.Weights != BufferResource.Auto) return first;
        var variants = new List<(EngineSettings Settings, string Switch)>();
        // A lane takes one DSP48E1 (operands up to 25 × 18 bits); wider lanes free more than counted here. The lanes to
        // move are those the budget lacks as Resolve left the other layers, or as many as it lacks with all of them on
        // DSP48E1: Resolve may have moved a layer's multipliers to LUTs that a few LUT lanes would have kept on DSP48E1
        // for fewer LUTs (a layer norm's three products against three 8-bit lanes).
        var allDsp = estimate(plan.With(n => plan[n].Multiplier == MultiplierMapping.Auto ? plan[n] with { Multiplier = MultiplierMapping.Dsp } : plan[n]));
        var lutLaneCounts = new[] { first.Estimate, allDsp }
            .Select(e => Math.Min(engine.Lanes, engine.LutLanes + Math.Max(0, e.Total.Dsp - e.Budget.Dsp)))
            .Where(count => !engine.LutMultipliers && count > engine.LutLanes).Distinct().ToList();
        var lanesMoved = lutLaneCounts.Select(count => (Settings: engine with { LutLanes = count }, Switch: $"engine: {count} lanes in LUTs")).ToList();
        variants.AddRange(lanesMoved);
        if (engine.Weights == BufferResource.Auto)
            foreach (var rom in new[] { BufferResource.Block, BufferResource.Distributed })
            {
                variants.Add((engine with { Weights = rom }, $"engine: weights in {RomMemory(rom)}"));
                variants.AddRange(lanesMoved.Select(v => (v.Settings with { Weights = rom }, $"{v.Switch}, weights in {RomMemory(rom)}")));
            }
        // of the variants that fit, the one that leaves the most room
        Result? best = null;
        foreach (var (settings, description) in variants)
        {
            var result = Resolve(plan.WithEngine(settings), estimate);
            if (result.Estimate.Fits && (best is null || Fuller(best, result)))
                best = result with { Switches = [description, .. result.Switches] };
        }
        // the split keeps the fewest lanes in LUTs that the budget asks for
        return best ?? SplitWeights(plan, lanesMoved.Count > 0 ? lanesMoved[0].Settings : engine, first, estimate) ?? first;
    }

    /// <summary>
    /// The engine with the fewest of its layers' weights in LUTs, smallest first, the others' in block RAM, that fits;
    /// null when none does. For weights that block RAM alone cannot hold and LUTs alone would overflow.
    /// </summary>
    private static Result? SplitWeights(LayerPlan plan, EngineSettings engine, Result first, Func<LayerPlan, DesignEstimate> estimate)
    {
        if (engine.Weights != BufferResource.Auto) return null;
        var movable = first.Estimate.Layers.Where(l => l.EngineWeightBits > 0 && plan[l.Name].Weights == BufferResource.Auto)
            .OrderBy(l => l.EngineWeightBits).ThenBy(l => l.Name, StringComparer.Ordinal).Select(l => l.Name).ToList();
        var block = engine with { Weights = BufferResource.Block };
        for (int count = 1; count < movable.Count; count++)
        {
            var moved = movable.Take(count).ToHashSet(StringComparer.Ordinal);
            var split = plan.With(n => moved.Contains(n) ? plan[n] with { Weights = BufferResource.Distributed } : plan[n]).WithEngine(block);
            var result = Resolve(split, estimate);
            if (result.Estimate.Fits)
                return result with { Switches = [$"engine: weights of {string.Join(", ", moved.Order(StringComparer.Ordinal))} in LUTs, the rest in block RAM", .. result.Switches] };
        }
        return null;
    }

    /// <summary>
    /// Whether <paramref name="a"/> leaves less room than <paramref name="b"/>: its fullest resource (as a share of the
    /// part) is fuller, or on a tie the next fullest, and so on.
    /// </summary>
    private static bool Fuller(Result a, Result b)
    {
        double[] Shares(Result r)
        {
            var (t, c) = (r.Estimate.Total, r.Estimate.Device.Capacity);
            return new[] { (double)t.Lut / c.Lut, (double)t.LutRam / c.LutRam, (double)t.Ff / c.Ff, (double)t.Bram18 / c.Bram18, (double)t.Dsp / c.Dsp }
                .OrderDescending().ToArray();
        }
        var (x, y) = (Shares(a), Shares(b));
        for (int i = 0; i < x.Length; i++)
            if (Math.Abs(x[i] - y[i]) > 1e-12) return x[i] > y[i];
        return false;
    }

    private static string RomMemory(BufferResource rom) => rom == BufferResource.Block ? "block RAM" : "LUTs";

    private sealed record Move(IReadOnlyList<string> Layers, IReadOnlyList<string> Descriptions, Resources Delta, Func<LayerChoice, LayerChoice> Apply);

    /// <summary>
    /// One move per layer, except that with <paramref name="byInstance"/> (a change of the instance, its multipliers)
    /// the layers one instance runs (<see cref="LayerEstimate.RunsOn"/>) move together, as one move of their instance's
    /// layer: moving one alone would give it an instance of its own. Buffers are each layer's own.
    /// </summary>
    private static IEnumerable<Move> Moves(List<string> layers, DesignEstimate before, DesignEstimate after, Func<string, string> describe, Func<LayerChoice, LayerChoice> apply,
        bool byInstance)
    {
        var deltas = before.LayerChanges(after);
        var runsOn = !byInstance ? new Dictionary<string, string>()
            : before.Layers.Where(l => l.RunsOn is not null).ToDictionary(l => l.Name, l => l.RunsOn!, StringComparer.Ordinal);
        foreach (var l in before.Layers.Where(l => layers.Contains(l.Name) && !(runsOn.TryGetValue(l.Name, out var owner) && layers.Contains(owner))))
        {
            var group = layers.Where(n => n == l.Name || runsOn.GetValueOrDefault(n) == l.Name).ToList();
            yield return new Move(group, group.Select(describe).ToList(), group.Aggregate(new Resources(), (sum, n) => sum + deltas[n]), apply);
        }
    }

    private static Resources Positive(Resources r) => new(Math.Max(0, r.Lut), Math.Max(0, r.LutRam), Math.Max(0, r.Ff), Math.Max(0, r.Bram18), Math.Max(0, r.Dsp));
}
