using System.Globalization;

namespace TransformerFpga.Explore;

/// <summary>The search's view of a design: its error, area (a weighted share of the device), latency, and by how much it exceeds the budget.</summary>
/// <param name="Overflow">0 when the design fits; otherwise the summed relative excess over the budget.</param>
public readonly record struct DesignScore(double Error, double Area, long Cycles, double Overflow)
{
    public bool Fits => Overflow <= 0;

    /// <summary>Pareto dominance with constraints first (Deb 2002): a design that fits beats one that does not; of two that do not, the smaller overflow wins.</summary>
    public bool Dominates(DesignScore other)
    {
        if (Fits != other.Fits) return Fits;
        if (!Fits) return Overflow < other.Overflow;
        return Error <= other.Error && Area <= other.Area && Cycles <= other.Cycles
            && (Error < other.Error || Area < other.Area || Cycles < other.Cycles);
    }
}

/// <summary>The designs a search explores: genes (layers) with a number of options each, and their score.</summary>
public interface IDesignModel
{
    int Genes { get; }
    int Options(int gene);
    /// <summary>Another option of a gene near <paramref name="option"/> (one attribute changed).</summary>
    int Mutate(int gene, int option, SplitMix64 random);
    /// <summary>A chance to compute what the scores of these designs need in bulk (in parallel) before they are asked for.</summary>
    void Prepare(IReadOnlyList<int[]> genomes, CancellationToken cancellation);
    DesignScore Score(int[] genome);
}

/// <summary>The order of the objective: the best design sorts first.</summary>
public sealed class DesignOrder : IComparer<DesignScore>
{
    private DesignOrder(ExploreObjective objective, double errorLimit)
    {
        Objective = objective;
        ErrorLimit = errorLimit;
    }

    public ExploreObjective Objective { get; }
    /// <summary>Latency: the largest error a design may have; +∞ for Accuracy.</summary>
    public double ErrorLimit { get; }

    /// <summary>Least error that fits; ties: less area, then fewer cycles.</summary>
    public static DesignOrder Accuracy { get; } = new(ExploreObjective.Accuracy, double.PositiveInfinity);

    /// <summary>Fewest cycles that fit with an error of at most <paramref name="errorLimit"/>; ties: less area, then less error.</summary>
    public static DesignOrder Latency(double errorLimit) => new(ExploreObjective.Latency, errorLimit);

    /// <summary>Whether a design meets every constraint of the objective.</summary>
    public bool Qualifies(DesignScore s) => s.Fits && s.Error <= ErrorLimit;

    public int Compare(DesignScore a, DesignScore b)
    {
        if (a.Fits != b.Fits) return a.Fits ? -1 : 1;
        if (!a.Fits) return a.Overflow.CompareTo(b.Overflow);
        if (Objective == ExploreObjective.Accuracy)
        {
            int c = a.Error.CompareTo(b.Error);
            if (c == 0) c = a.Area.CompareTo(b.Area);
            return c != 0 ? c : a.Cycles.CompareTo(b.Cycles);
        }
        bool qa = a.Error <= ErrorLimit, qb = b.Error <= ErrorLimit;
        if (qa != qb) return qa ? -1 : 1;
        if (!qa) return a.Error.CompareTo(b.Error); // closest to the limit first
        int d = a.Cycles.CompareTo(b.Cycles);
        if (d == 0) d = a.Area.CompareTo(b.Area);
        return d != 0 ? d : a.Error.CompareTo(b.Error);
    }
}

/// <summary>A design and its score.</summary>
public sealed record ScoredDesign(int[] Genome, DesignScore Score);

/// <summary>Settings of <see cref="ParetoSearch"/>; the defaults are what FpgaExplore uses.</summary>
public sealed record SearchParameters
{
    public int Population { get; init; } = 96;
    public int Generations { get; init; } = 120;
    public double CrossoverProbability { get; init; } = 0.9;
    /// <summary>Population of the second phase, which evolves designs by the objective's order alone.</summary>
    public int ObjectivePopulation { get; init; } = 48;
    public int ObjectiveGenerations { get; init; } = 80;
    /// <summary>Start points of the final 1-opt descent: the best distinct designs by the objective.</summary>
    public int PolishStarts { get; init; } = 4;
    public ulong Seed { get; init; } = 0x7F6A_2024_0329_0001UL;
}

/// <summary>Progress of a search, reported once per tenth of the generations and after the descent.</summary>
public sealed record SearchProgress(string Phase, int Generation, int Generations, int Evaluated, ScoredDesign? Best);

/// <summary>The result of a search: every design scored, the Pareto front among those that fit, and the objective's best.</summary>
public sealed record SearchResult(IReadOnlyList<ScoredDesign> Evaluated, IReadOnlyList<ScoredDesign> Front, ScoredDesign Best);

/// <summary>
/// A deterministic multi-objective evolutionary search (NSGA-II, Deb et al. 2002, with constraint
/// domination) over error × area × cycles; then a (μ + λ) evolution ranked by the objective alone, which
/// works the objective's corner of the front that NSGA-II only spreads over; then a 1-opt descent: from
/// the best designs of the objective, every single-layer change is tried and the best improvement taken
/// until none improves.
/// <para>
/// Guarantees: the same model, objective, seeds and parameters give the same result (a fixed random
/// generator, ties broken by the genome, no dependence on thread scheduling); the returned best is
/// 1-optimal for the objective (no change of one layer's option improves it); on design spaces small
/// enough to enumerate, it equals the exhaustive optimum (tested). The front is the exact Pareto front
/// of every design the search scored.
/// </para>
/// </summary>
public static class ParetoSearch
{
    public static SearchResult Run(IDesignModel model, DesignOrder order, IEnumerable<int[]> seeds, SearchParameters parameters,
        Action<SearchProgress>? progress = null, CancellationToken cancellation = default)
    {
        var random = new SplitMix64(parameters.Seed);
        var state = new SearchState(model, order, cancellation);

        // Start: the seeds (valid ones, without repeats), filled up with random designs.
        var population = new List<int[]>();
        foreach (var seed in seeds)
            if (seed.Length == model.Genes && seed.Select((o, i) => o >= 0 && o < model.Options(i)).All(x => x) && !population.Any(p => p.AsSpan().SequenceEqual(seed)))
                population.Add((int[])seed.Clone());
        while (population.Count < parameters.Population)
            population.Add(Enumerable.Range(0, model.Genes).Select(i => random.Next(model.Options(i))).ToArray());
        state.Score(population);

        int reportEvery = Math.Max(1, parameters.Generations / 10);
        for (int generation = 1; generation <= parameters.Generations; generation++)
        {
            var (rank, crowding) = RankAndCrowding(population, state.Scored);
            int Tournament()
            {
                int a = random.Next(population.Count), b = random.Next(population.Count);
                if (rank[a] != rank[b]) return rank[a] < rank[b] ? a : b;
                if (crowding[a] != crowding[b]) return crowding[a] > crowding[b] ? a : b;
                return Math.Min(a, b);
            }
            var offspring = Offspring(model, random, population, Tournament, parameters.Population, parameters.CrossoverProbability);
            state.Score(offspring);
            population = Select(population.Concat(offspring).Distinct(GenomeComparer.Instance).ToList(), state.Scored, parameters.Population);
            if (generation % reportEvery == 0 || generation == parameters.Generations)
                progress?.Invoke(new SearchProgress("search", generation, parameters.Generations, state.Scored.Count, state.Best));
        }

        Optimize(model, state, random, parameters, progress);

        var evaluated = state.Scored.OrderBy(kv => kv.Key, GenomeOrder.Instance).Select(kv => new ScoredDesign(kv.Key.Values, kv.Value)).ToList();
        return new SearchResult(evaluated, Front(evaluated), state.Best!);
    }

    /// <summary>
    /// The objective's phases alone (no front): evolution by the objective's order from <paramref name="seeds"/>, then the
    /// 1-opt descent. For the uniform designs, on a model restricted to their bits.
    /// </summary>
    public static ScoredDesign Optimize(IDesignModel model, DesignOrder order, IEnumerable<int[]> seeds, SearchParameters parameters, CancellationToken cancellation = default)
    {
        var state = new SearchState(model, order, cancellation);
        var random = new SplitMix64(parameters.Seed);
        var start = seeds.Where(g => g.Length == model.Genes).ToList();
        while (start.Count < parameters.ObjectivePopulation)
            start.Add(Enumerable.Range(0, model.Genes).Select(i => random.Next(model.Options(i))).ToArray());
        state.Score(start);
        Optimize(model, state, random, parameters, null);
        return state.Best!;
    }

    /// <summary>
    /// Phase two: a (μ + λ) evolution ranked by the objective's order alone, from the best designs scored so far, which
    /// concentrates on the objective's corner of the front (NSGA-II spreads its population over the whole front). Phase
    /// three: the 1-opt descent from the best distinct designs.
    /// </summary>
    private static void Optimize(IDesignModel model, SearchState state, SplitMix64 random, SearchParameters parameters, Action<SearchProgress>? progress)
    {
        var order = state.Order;
        List<int[]> Best(IEnumerable<int[]> genomes, int count) => genomes.Distinct(GenomeComparer.Instance)
            .OrderBy(g => state.Scored[new Genome(g)], order).ThenBy(g => new Genome(g), GenomeOrder.Instance).Take(count).ToList();
        var population = Best(state.Scored.Keys.Select(k => k.Values), parameters.ObjectivePopulation);
        int reportEvery = Math.Max(1, parameters.ObjectiveGenerations / 4);
        for (int generation = 1; generation <= parameters.ObjectiveGenerations && population.Count > 1; generation++)
        {
            // Binary tournament on the position in the order (the population is sorted best first).
            int Tournament() => Math.Min(random.Next(population.Count), random.Next(population.Count));
            var offspring = Offspring(model, random, population, Tournament, population.Count, parameters.CrossoverProbability);
            state.Score(offspring);
            population = Best(population.Concat(offspring), parameters.ObjectivePopulation);
            if (generation % reportEvery == 0)
                progress?.Invoke(new SearchProgress("objective", generation, parameters.ObjectiveGenerations, state.Scored.Count, state.Best));
        }

        foreach (var start in Best(state.Scored.Keys.Select(k => k.Values), parameters.PolishStarts))
            state.Descend(start);
        // The best design scored is a descent's end, or ties one in score; descend from it until it is one itself, so that
        // no single-layer change improves it.
        while (true)
        {
            var best = state.Best!;
            if (state.Descend(best.Genome).Genome.AsSpan().SequenceEqual(best.Genome) && ReferenceEquals(best, state.Best)) break;
        }
        progress?.Invoke(new SearchProgress("descent", 1, 1, state.Scored.Count, state.Best));
    }

    /// <summary>
    /// Children of <paramref name="population"/> until there are at least <paramref name="count"/>: two parents by
    /// <paramref name="tournament"/>, uniform crossover, then each child mutated.
    /// </summary>
    private static List<int[]> Offspring(IDesignModel model, SplitMix64 random, List<int[]> population, Func<int> tournament, int count, double crossoverProbability)
    {
        var offspring = new List<int[]>();
        while (offspring.Count < count)
        {
            var c1 = (int[])population[tournament()].Clone();
            var c2 = (int[])population[tournament()].Clone();
            if (random.NextDouble() < crossoverProbability)
                for (int i = 0; i < c1.Length; i++)
                    if (random.Next(2) == 1) (c1[i], c2[i]) = (c2[i], c1[i]);
            foreach (var child in new[] { c1, c2 })
            {
                // On average one gene changes; at least one, so that the child differs from a cloned parent.
                bool changed = false;
                for (int i = 0; i < child.Length; i++)
                    if (random.Next(child.Length) == 0) { child[i] = model.Mutate(i, child[i], random); changed = true; }
                if (!changed) { int i = random.Next(child.Length); child[i] = model.Mutate(i, child[i], random); }
                offspring.Add(child);
            }
        }
        return offspring;
    }

    /// <summary>The designs scored so far and the best of them.</summary>
    private sealed class SearchState(IDesignModel model, DesignOrder order, CancellationToken cancellation)
    {
        public DesignOrder Order => order;
        public Dictionary<Genome, DesignScore> Scored { get; } = new();
        public ScoredDesign? Best { get; private set; }

        public void Score(IReadOnlyList<int[]> genomes)
        {
            cancellation.ThrowIfCancellationRequested();
            var fresh = genomes.Where(g => !Scored.ContainsKey(new Genome(g))).Distinct(GenomeComparer.Instance).ToList();
            model.Prepare(fresh, cancellation);
            foreach (var g in fresh)
            {
                var s = model.Score(g);
                Scored[new Genome(g)] = s;
                if (Best is null || Better(order, s, g, Best.Score, Best.Genome)) Best = new ScoredDesign(g, s);
            }
        }

        /// <summary>The 1-opt descent: from <paramref name="start"/>, moves to the best single-gene change while it beats the current design.</summary>
        public ScoredDesign Descend(int[] start)
        {
            var current = (int[])start.Clone();
            Score([current]);
            while (true)
            {
                var neighbours = new List<int[]>();
                for (int i = 0; i < model.Genes; i++)
                    for (int o = 0; o < model.Options(i); o++)
                        if (o != current[i])
                        {
                            var n = (int[])current.Clone();
                            n[i] = o;
                            neighbours.Add(n);
                        }
                Score(neighbours);
                var here = Scored[new Genome(current)];
                int[]? next = null;
                var nextScore = here;
                // Only strict improvements of the score move (no wandering on plateaus); the genome breaks ties between them.
                foreach (var n in neighbours)
                {
                    var s = Scored[new Genome(n)];
                    if (order.Compare(s, here) < 0 && (next is null || Better(order, s, n, nextScore, next))) (next, nextScore) = (n, s);
                }
                if (next is null) return new ScoredDesign(current, here);
                current = next;
            }
        }
    }

    /// <summary>Strictly better in the objective's order; equal scores are ordered by genome so that the choice is deterministic.</summary>
    private static bool Better(DesignOrder order, DesignScore a, int[] ga, DesignScore b, int[] gb)
    {
        int c = order.Compare(a, b);
        return c < 0 || (c == 0 && GenomeOrder.Instance.Compare(new Genome(ga), new Genome(gb)) < 0);
    }

    /// <summary>The Pareto front (error, area, cycles) of the designs that fit; of designs with equal scores the first by genome.</summary>
    public static List<ScoredDesign> Front(IEnumerable<ScoredDesign> designs)
    {
        var sorted = designs.Where(d => d.Score.Fits)
            .OrderBy(d => d.Score.Error).ThenBy(d => d.Score.Area).ThenBy(d => d.Score.Cycles).ThenBy(d => new Genome(d.Genome), GenomeOrder.Instance).ToList();
        var front = new List<ScoredDesign>();
        foreach (var d in sorted)
        {
            // Everything already on the front has no larger error, so it dominates d (or ties it) when it is no worse in area and cycles.
            if (front.Any(f => f.Score.Area <= d.Score.Area && f.Score.Cycles <= d.Score.Cycles)) continue;
            front.Add(d);
        }
        return front;
    }

    /// <summary>NSGA-II's environmental selection: whole fronts by rank, the last one cut by crowding distance.</summary>
    private static List<int[]> Select(List<int[]> candidates, Dictionary<Genome, DesignScore> scored, int size)
    {
        var (rank, crowding) = RankAndCrowding(candidates, scored);
        return Enumerable.Range(0, candidates.Count)
            .OrderBy(i => rank[i]).ThenByDescending(i => crowding[i]).ThenBy(i => new Genome(candidates[i]), GenomeOrder.Instance)
            .Take(size).Select(i => candidates[i]).ToList();
    }

    private static (int[] Rank, double[] Crowding) RankAndCrowding(List<int[]> population, Dictionary<Genome, DesignScore> scored)
    {
        int n = population.Count;
        var s = population.Select(g => scored[new Genome(g)]).ToArray();
        var dominatedBy = new int[n];
        var dominates = new List<int>[n];
        for (int i = 0; i < n; i++) dominates[i] = [];
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
            {
                if (s[i].Dominates(s[j])) { dominates[i].Add(j); dominatedBy[j]++; }
                else if (s[j].Dominates(s[i])) { dominates[j].Add(i); dominatedBy[i]++; }
            }
        var rank = new int[n];
        var crowding = new double[n];
        var current = Enumerable.Range(0, n).Where(i => dominatedBy[i] == 0).ToList();
        for (int r = 0; current.Count > 0; r++)
        {
            foreach (int i in current) rank[i] = r;
            Crowd(current, s, crowding);
            var next = new List<int>();
            foreach (int i in current)
                foreach (int j in dominates[i])
                    if (--dominatedBy[j] == 0) next.Add(j);
            next.Sort();
            current = next;
        }
        return (rank, crowding);
    }

    /// <summary>Crowding distance over log error, area and log cycles (boundary designs get +∞); designs over budget are crowded by overflow.</summary>
    private static void Crowd(List<int> front, DesignScore[] s, double[] crowding)
    {
        var objectives = new Func<DesignScore, double>[]
        {
            x => x.Fits ? Math.Log(Math.Max(x.Error, 1e-300)) : x.Overflow,
            x => x.Fits ? x.Area : 0,
            x => x.Fits ? Math.Log(Math.Max(1, x.Cycles)) : 0,
        };
        foreach (int i in front) crowding[i] = 0;
        foreach (var f in objectives)
        {
            var sorted = front.OrderBy(i => f(s[i])).ThenBy(i => i).ToList();
            double span = f(s[sorted[^1]]) - f(s[sorted[0]]);
            crowding[sorted[0]] = crowding[sorted[^1]] = double.PositiveInfinity;
            if (span <= 0) continue;
            for (int k = 1; k < sorted.Count - 1; k++)
                crowding[sorted[k]] += (f(s[sorted[k + 1]]) - f(s[sorted[k - 1]])) / span;
        }
    }
}

/// <summary>A genome as a dictionary key (compared by value).</summary>
public readonly struct Genome(int[] values) : IEquatable<Genome>
{
    public int[] Values { get; } = values;

    public bool Equals(Genome other) => Values.AsSpan().SequenceEqual(other.Values);

    public override bool Equals(object? obj) => obj is Genome g && Equals(g);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (int v in Values) h.Add(v);
        return h.ToHashCode();
    }

    public override string ToString() => string.Join(",", Values.Select(v => v.ToString(CultureInfo.InvariantCulture)));
}

/// <summary>Lexicographic order of genomes: the deterministic tie-break.</summary>
public sealed class GenomeOrder : IComparer<Genome>
{
    public static GenomeOrder Instance { get; } = new();

    public int Compare(Genome a, Genome b) => a.Values.AsSpan().SequenceCompareTo(b.Values);
}

internal sealed class GenomeComparer : IEqualityComparer<int[]>
{
    public static GenomeComparer Instance { get; } = new();

    public bool Equals(int[]? a, int[]? b) => a is not null && b is not null && a.AsSpan().SequenceEqual(b);

    public int GetHashCode(int[] g) => new Genome(g).GetHashCode();
}

/// <summary>A model whose genes only offer the options <c>allowed</c> permits (the uniform designs: one bits value everywhere).</summary>
public sealed class RestrictedModel : IDesignModel
{
    private readonly IDesignModel _inner;
    private readonly int[][] _options;

    public RestrictedModel(IDesignModel inner, Func<int, int, bool> allowed)
    {
        _inner = inner;
        _options = Enumerable.Range(0, inner.Genes).Select(g => Enumerable.Range(0, inner.Options(g)).Where(o => allowed(g, o)).ToArray()).ToArray();
        if (_options.Any(o => o.Length == 0)) throw new ArgumentException("every gene needs an allowed option", nameof(allowed));
    }

    public int Genes => _inner.Genes;

    public int Options(int gene) => _options[gene].Length;

    /// <summary>The inner model's mutation when it stays allowed (a few tries), else another allowed option at random.</summary>
    public int Mutate(int gene, int option, SplitMix64 random)
    {
        var options = _options[gene];
        if (options.Length == 1) return option;
        for (int attempt = 0; attempt < 8; attempt++)
        {
            int index = Array.IndexOf(options, _inner.Mutate(gene, options[option], random));
            if (index >= 0 && index != option) return index;
        }
        return (option + 1 + random.Next(options.Length - 1)) % options.Length;
    }

    public void Prepare(IReadOnlyList<int[]> genomes, CancellationToken cancellation) => _inner.Prepare(genomes.Select(Outer).ToList(), cancellation);

    public DesignScore Score(int[] genome) => _inner.Score(Outer(genome));

    /// <summary>The inner model's genome of a restricted one.</summary>
    public int[] Outer(int[] genome) => genome.Select((o, g) => _options[g][o]).ToArray();

    /// <summary>The restricted genome of an inner one, or null when an option is not allowed.</summary>
    public int[]? Inner(int[] genome)
    {
        var result = new int[genome.Length];
        for (int g = 0; g < genome.Length; g++)
        {
            result[g] = Array.IndexOf(_options[g], genome[g]);
            if (result[g] < 0) return null;
        }
        return result;
    }
}
