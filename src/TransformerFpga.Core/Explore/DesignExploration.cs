using System.Diagnostics;
using System.Globalization;
using TransformerFpga.Diagnostics;
using TransformerFpga.FineTuning;
using TransformerFpga.Hardware;
using TransformerFpga.Integer;
using TransformerFpga.Pipeline;
using TransformerFpga.Reports;

namespace TransformerFpga.Explore;

public sealed record ExploreOutcome(bool Success, IReadOnlyList<FpgaDiagnostic> Diagnostics, string? Summary);

/// <summary>Where a measured design comes from.</summary>
public enum DesignOrigin
{
    /// <summary>Found by the search.</summary>
    Search,
    /// <summary>The same bits for every layer, buffers, lanes and multipliers chosen by the same objective: the comparison for mixed precision.</summary>
    Uniform,
    /// <summary>The project's own items, as `dotnet build` makes them.</summary>
    Project,
}

/// <summary>A design simulated on the validation windows and on the whole test set, and estimated exactly.</summary>
/// <param name="UniformBits">The bits of a <see cref="DesignOrigin.Uniform"/> design, else 0.</param>
/// <param name="ValidationError">Its MSE on the validation windows (of the calibration file): what the exploration chooses by.</param>
/// <param name="PredictedError">The search's validation error for it (from the sensitivity), or null for the project's design.</param>
public sealed record MeasuredDesign(int Id, DesignOrigin Origin, int UniformBits, LayerPlan Plan, DesignEstimate Estimate, SimulationResult Simulation,
    double ValidationError, double? PredictedError)
{
    /// <summary>With FpgaExploreFineTune, for the designs it fine-tunes (and every other design with their bits): the fine-tuning and its test result.</summary>
    public FineTunedPlan? FineTuned { get; init; }

    /// <summary>The test error: integer model vs target, MSE (report/simulation.json's integer_vs_target.mse); reported, never chosen by.</summary>
    public double Error => Simulation.IntegerVsTarget.Mse;
    public double Area => Estimate.Device.AreaFraction(Estimate.Total);
    /// <summary>The area as LUTs (<see cref="Device.LutEquivalent"/>).</summary>
    public double LutEquivalent => Estimate.Device.LutEquivalent(Estimate.Total);
    public long Cycles => Estimate.LatencyCycles;
    public DesignScore Score => new(ValidationError, Area, Cycles, DesignEstimate.Overflow(Estimate.Total, Estimate.Budget));

    public string Label => Origin switch
    {
        DesignOrigin.Uniform => string.Create(CultureInfo.InvariantCulture, $"uniform {UniformBits} bit"),
        DesignOrigin.Project => "project",
        _ => string.Create(CultureInfo.InvariantCulture, $"#{Id}"),
    } + (Plan.Engine is not null && Origin != DesignOrigin.Project ? " engine" : "");

    /// <summary>The engine's multipliers (DSP, LUT or how many lanes are which), or null for a Layers design.</summary>
    public string? EngineMultipliers => Estimate.Layers.FirstOrDefault(l => l.OnEngine)?.Multiplier;

    /// <summary>The architecture in words: Layers, or Engine with its lanes and their multipliers.</summary>
    public string Architecture => Plan.Engine is null ? "Layers"
        : string.Create(CultureInfo.InvariantCulture, $"Engine, {Plan.Engine.Lanes} lanes ({EngineMultipliers})");
}

/// <summary>Everything the exploration found, for the reports.</summary>
public sealed record ExploreResult(
    ExploreOptions Options,
    string Top, string Part, double ClockMHz, double LimitPercent, Device Device,
    DesignSpace Space,
    Sensitivity Sensitivity,
    IReadOnlyDictionary<string, (int[] Weight, int[] Activation)> Pruned,
    double ReferenceError,
    double ValidationReferenceError,
    double ErrorLimit,
    IReadOnlyList<MeasuredDesign> Designs,
    IReadOnlyList<int> Front,
    int? Best,
    SearchParameters Search,
    int DesignsScored,
    int ModulesEstimated,
    int Simulations)
{
    public Resources Budget => DesignEstimate.Scale(Device.Capacity, LimitPercent);
}

/// <summary>
/// `dotnet build -t:FpgaExplore`: the resource-aware mixed-precision search (docs/exploration.md, "Design-space
/// exploration"). Measures per-layer sensitivity with the simulator, searches bits, buffer memory, lanes
/// and multipliers with the exact resource and latency model and the predicted error, then simulates and
/// estimates the candidates, keeps the Pareto front of the measured designs and writes report/explore.*.
/// </summary>
public static class DesignExploration
{
    /// <summary>Search designs measured at most (besides the uniform ones and the project's).</summary>
    public const int MaxMeasured = 24;

    /// <summary>Of those, the best by the objective's order with distinct bits (the predicted error can misrank close designs).</summary>
    public const int ObjectiveCandidates = 8;

    /// <summary>Runs the exploration; never throws for user errors (they become coded diagnostics); throws OperationCanceledException when canceled.</summary>
    public static ExploreOutcome Run(ExploreRequest request, Action<string>? progress = null, CancellationToken cancellation = default, SearchParameters? search = null)
    {
        var diagnostics = new List<FpgaDiagnostic>();
        try
        {
            string summary = Execute(request, diagnostics, progress ?? (_ => { }), search ?? new SearchParameters(), cancellation);
            return new ExploreOutcome(!diagnostics.Any(d => d.Severity == Severity.Error), diagnostics, summary);
        }
        catch (FpgaException e)
        {
            diagnostics.Add(FpgaDiagnostic.From(e));
            return new ExploreOutcome(false, diagnostics, null);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (AggregateException e) when (e.InnerExceptions.All(x => x is OperationCanceledException))
        {
            throw new OperationCanceledException(cancellation);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            diagnostics.Add(new FpgaDiagnostic(Severity.Error, ErrorCodes.InternalError, request.Build.ProjectFile, 0,
                $"internal error ({e.GetType().Name}: {e.Message}); please report it with the model files"));
            return new ExploreOutcome(false, diagnostics, null);
        }
    }

    private static string Execute(ExploreRequest request, List<FpgaDiagnostic> diagnostics, Action<string> progress, SearchParameters parameters, CancellationToken cancellation)
    {
        var watch = Stopwatch.StartNew();
        string projectFile = request.Build.ProjectFile;
        var inputs = ProjectInputs.Resolve(request.Build);
        var options = ExploreOptions.Parse(request.Settings, projectFile);
        // A calibration file too short to hold out validation windows fails now, not after the search.
        if (options.FineTuning is { } tuning) FineTuningData.Load(inputs.Config, tuning.ValidationPercent);
        cancellation.ThrowIfCancellationRequested();

        progress("explore: calibrating and quantizing " + inputs.Config.Name);
        var evaluation = new ModelEvaluation(inputs.Config, inputs.Weights, cancellation);
        // The same coefficients as the build: the project's fpga-calibration.json when there is one.
        var coefficients = Calibration.ForProject(request.Build.ProjectDirectory);
        var estimator = new PlanEstimator(evaluation, inputs.TopName, inputs.Device, inputs.Part, inputs.ClockMHz, inputs.LimitPercent, coefficients);
        inputs.Plan.ValidateLanes(estimator.Model(inputs.Plan), projectFile);
        var projectPlan = AutoMapping.ResolveEngineLanes(inputs.Plan, estimator.Estimate).Plan;
        var budget = DesignEstimate.Scale(inputs.Device.Capacity, inputs.LimitPercent);

        var space = DesignSpace.Create(evaluation.Quantize, options.Bits, name => inputs.Plan[name].Weights);
        progress(string.Create(CultureInfo.InvariantCulture,
            $"explore: {space.Layers.Count} hardware layers, 10^{space.Log10Size:0.#} designs (bits {string.Join(";", options.Bits)}, Block/Distributed buffers, lanes, DSP/LUT multipliers); objective {options.Objective}"));

        // Uniform bits: the error reference (8 bit), the error range of the candidate bits.
        var uniformBits = options.Bits.Append(ExploreOptions.ReferenceBits).Distinct().OrderBy(b => b).ToList();
        var simulated = new Dictionary<string, SimulationResult>(StringComparer.Ordinal);
        // Every choice below is made on the validation windows; the test set only reports.
        var validated = new Dictionary<string, double>(StringComparer.Ordinal);
        var uniformErrors = Validate(evaluation, uniformBits.Select(b => UniformBits(space, b)).ToList(), validated, cancellation);
        double ErrorOf(int bits) => uniformErrors[uniformBits.IndexOf(bits)];
        double referenceError = ErrorOf(ExploreOptions.ReferenceBits), widestError = ErrorOf(options.WidestBits);
        double errorLimit = options.Objective == ExploreObjective.Latency ? referenceError * (1 + options.MaxErrorIncreasePercent / 100) : double.PositiveInfinity;

        var sensitivity = Sensitivity.Measure(evaluation, space, progress, cancellation);
        var pruned = Prune(space, sensitivity, Math.Max(ErrorOf(options.Bits[0]) - widestError, widestError));
        if (pruned.Count > 0)
            progress("explore: sensitivity rules out " + string.Join(", ", pruned.Select(p => p.Key + " " + PrunedText(p.Value))));

        var control = estimator.Estimate(space.Plan(MappingVariants(space, options.WidestBits).First())).Layers.Single(l => l.Name == "control").Resources;
        var costs = new DesignCosts(space, evaluation, inputs.TopName, coefficients, control);
        var model = new ExploreModel(space, costs, sensitivity, sensitivity.ReferenceError > 0 ? widestError / sensitivity.ReferenceError : 1, inputs.Device, budget);
        var order = options.Objective == ExploreObjective.Accuracy ? DesignOrder.Accuracy : DesignOrder.Latency(errorLimit);

        // The search runs on the space without the pruned choices; its designs are mapped back to the whole space.
        var searched = new RestrictedModel(model, (gene, option) => !IsPruned(pruned, space.Layers[gene], space.Layers[gene][option]));
        var seeds = options.Bits.SelectMany(b => MappingVariants(space, b)).ToList();
        if (space.Genome(projectPlan, n => projectPlan[n].Buffer) is { } projectGenome) seeds.Add(projectGenome);
        var found = ParetoSearch.Run(searched, order, seeds.Select(searched.Inner).OfType<int[]>(), parameters, p => progress(string.Create(CultureInfo.InvariantCulture,
            $"explore: {p.Phase} {p.Generation}/{p.Generations}: {p.Evaluated:N0} designs scored, {costs.ModulesEstimated:N0} modules estimated; best so far: {(p.Best is null ? "none yet" : Describe(p.Best.Score, inputs.Device))}")),
            cancellation);
        ScoredDesign Whole(ScoredDesign d) => new(searched.Outer(d.Genome), d.Score);
        var result = new SearchResult(found.Evaluated.Select(Whole).ToList(), found.Front.Select(Whole).ToList(), Whole(found.Best));

        var uniform = UniformDesigns(model, options, result, parameters, cancellation);
        var chosen = Candidates(model, options, result, uniform, widestError, errorLimit);

        progress(string.Create(CultureInfo.InvariantCulture, $"explore: simulating and estimating {chosen.Count + uniform.Count + 1} designs"));
        var plans = new List<Candidate>();
        plans.AddRange(chosen.Select(d => new Candidate(DesignOrigin.Search, 0, space.Plan(d.Genome), d)));
        plans.AddRange(uniform);
        plans.Add(new Candidate(DesignOrigin.Project, 0, projectPlan, null));
        var engineLanes = Engine.MacEngine.ValidLanes(inputs.Config).Where(l => l <= Engine.MacEngine.DefaultMaxLanes).ToList();
        progress(string.Create(CultureInfo.InvariantCulture, $"explore: the same bits on the Engine architecture, {string.Join("/", engineLanes)} lanes"));
        plans.AddRange(EngineDesigns(plans, engineLanes, estimator, order, cancellation));
        var designs = Measure(plans, evaluation, estimator, simulated, validated, cancellation);
        double referenceTestError = Simulate(evaluation, [UniformBits(space, ExploreOptions.ReferenceBits)], simulated, cancellation)[0].IntegerVsTarget.Mse;

        // The search's costs are the estimator's by construction (DesignCosts, but for the bias tables); say so loudly if
        // a design disagrees (it costs Layers designs; the Engine designs are the estimator's own).
        int mismatched = plans.Select((p, i) => (Candidate: p, e: designs[i].Estimate))
            .Count(x => x.Candidate.Design is { } d && x.Candidate.Plan.Engine is null && !costs.Cost(d.Genome).Matches(x.e.Total, x.e.LatencyCycles));
        if (mismatched > 0)
            progress(string.Create(CultureInfo.InvariantCulture, $"explore: the search's resource model differed from the estimate for {mismatched} designs; the reports use the estimate"));

        // The front and the best of the measured designs: simulated errors, exact estimates.
        var front = ParetoSearch.Front(designs.Select(d => new ScoredDesign([d.Id], d.Score))).Select(d => d.Genome[0]).OrderBy(i => i).ToList();
        var best = designs.Where(d => order.Qualifies(d.Score)).OrderBy(d => d.Score, order).ThenBy(d => d.Id).FirstOrDefault();
        if (options.FineTuning is { } fineTuning && best is not null)
        {
            designs = FineTune(designs, best, options.WidestBits, fineTuning, evaluation, progress, cancellation);
            best = designs[best.Id];
        }

        var explored = new ExploreResult(options, inputs.TopName, inputs.Part, inputs.ClockMHz, inputs.LimitPercent, inputs.Device, space, sensitivity, pruned,
            referenceTestError, referenceError, errorLimit, designs, front, best?.Id, parameters, result.Evaluated.Count, costs.ModulesEstimated,
            sensitivity.Cases + 1 + simulated.Count + validated.Count);
        var outputs = new OutputWriter();
        outputs.Add("report/explore.json", ExploreReport.Json(explored));
        outputs.Add("report/explore.md", ExploreReport.Markdown(explored));
        outputs.Add("report/explore.svg", ExploreReport.Svg(explored));
        if (best is not null) outputs.Add("report/explore.props", ExploreReport.Props(explored, best));
        outputs.CommitFiles(request.Build.Settings.OutputDir);

        if (best is null) diagnostics.Add(NoDesign(explored, projectFile));
        string outcome = best is null
            ? "no design qualifies; report/explore.props was not written"
            : $"best ({options.Objective}): {Describe(best)}; report/explore.props holds its items" + (best.FineTuned is { } t
                ? string.Create(CultureInfo.InvariantCulture, $"; fine-tuned for its bits: test MSE {t.Test.IntegerVsTarget.Mse:G4}")
                : "");
        return string.Create(CultureInfo.InvariantCulture,
            $"explore: {outcome}\nexplore: {front.Count} designs on the measured front, {result.Evaluated.Count:N0} designs scored, {explored.Simulations} simulations, in {watch.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>
    /// FpgaExploreFineTune: fine-tunes the bits of the best design and of the uniform design at the widest candidate bits
    /// (the baseline of mixed precision), each set of bits once and in parallel, with FpgaFineTune's code and options, so
    /// that FpgaFineTune after importing explore.props gives the same figures. The result goes to every measured design
    /// with those bits, as the tuned weights depend on the bits alone. It only reports: the choice is already made.
    /// </summary>
    private static List<MeasuredDesign> FineTune(List<MeasuredDesign> designs, MeasuredDesign best, int widestBits, FineTuneOptions options,
        ModelEvaluation evaluation, Action<string> progress, CancellationToken cancellation)
    {
        var listed = designs.Where(d => d.Origin == DesignOrigin.Uniform && d.UniformBits == widestBits).Prepend(best).DistinctBy(d => BitsKey(d.Plan)).ToList();
        progress(string.Create(CultureInfo.InvariantCulture,
            $"explore: fine-tuning {string.Join(" and ", listed.Select(d => d.Label))} for their bits, {options.Epochs} epochs each{(listed.Count > 1 ? ", in parallel" : "")}"));
        var tuned = new FineTunedPlan[listed.Count];
        var gate = new object();
        void Report(string line) { lock (gate) progress(line); }
        Parallel.For(0, listed.Count, new ParallelOptions { CancellationToken = cancellation }, i =>
        {
            string label = listed[i].Label;
            tuned[i] = FineTuneJob.Tune(evaluation, listed[i].Plan.Bits, options, e => Report($"explore: fine-tune {label}: {FineTuneJob.EpochText(e)}"), cancellation);
            var t = tuned[i].Training;
            Report(string.Create(CultureInfo.InvariantCulture,
                $"explore: fine-tuned {label}: best epoch {t.BestEpoch}, validation MSE {t.ValidationMseBefore:G4} → {t.ValidationMseAfter:G4}, test MSE {listed[i].Error:G4} → {tuned[i].Test.IntegerVsTarget.Mse:G4}"));
        });
        var byBits = listed.Select((d, i) => (Key: BitsKey(d.Plan), Tuned: tuned[i])).ToDictionary(x => x.Key, x => x.Tuned, StringComparer.Ordinal);
        return designs.Select(d => byBits.TryGetValue(BitsKey(d.Plan), out var t) ? d with { FineTuned = t } : d).ToList();
    }

    /// <summary>A design to measure: where it comes from, its plan, and the search's view of it (null when the search did not score it).</summary>
    private sealed record Candidate(DesignOrigin Origin, int UniformBits, LayerPlan Plan, ScoredDesign? Design);

    /// <summary>
    /// The sensitivity pruning: a weight or activation bits value of a layer is dropped when narrowing that layer alone costs
    /// more error than <paramref name="worthwhile"/>: more than narrowing every layer (the uniform narrowest design, which is
    /// also the smallest, loses less) and more than doubling the reference error (so that a model on which narrowing barely
    /// matters does not lose its narrow choices to noise). The widest bits always stay.
    /// </summary>
    private static SortedDictionary<string, (int[] Weight, int[] Activation)> Prune(DesignSpace space, Sensitivity sensitivity, double worthwhile)
    {
        var pruned = new SortedDictionary<string, (int[] Weight, int[] Activation)>(StringComparer.Ordinal);
        foreach (var l in space.Layers)
        {
            var s = sensitivity.Layers[l.Index];
            int[] w = l.HasWeightBits ? l.WeightBits.Where(b => b != space.WidestBits && s.Weight[b] > worthwhile).ToArray() : [];
            int[] a = l.ActivationBits.Where(b => b != space.WidestBits && s.Activation[b] > worthwhile).ToArray();
            if (w.Length + a.Length > 0) pruned[l.Name] = (w, a);
        }
        return pruned;
    }

    private static bool IsPruned(SortedDictionary<string, (int[] Weight, int[] Activation)> pruned, LayerSpace layer, LayerOption option) =>
        pruned.TryGetValue(layer.Name, out var p) && (p.Weight.Contains(option.WeightBits) || p.Activation.Contains(option.ActivationBits));

    internal static string PrunedText((int[] Weight, int[] Activation) p) =>
        string.Join("/", p.Weight.Select(b => "w" + b.ToString(CultureInfo.InvariantCulture)).Concat(p.Activation.Select(b => "a" + b.ToString(CultureInfo.InvariantCulture))));

    /// <summary>
    /// The uniform designs for comparison, one per candidate bits value: bits fixed (pruned or not), the rest chosen by the
    /// same optimizer for the same objective (without the error limit), from the mapping variants and the best such
    /// designs the search met.
    /// </summary>
    private static List<Candidate> UniformDesigns(ExploreModel model, ExploreOptions options, SearchResult result, SearchParameters parameters, CancellationToken cancellation)
    {
        var space = model.Space;
        var order = options.Objective == ExploreObjective.Accuracy ? DesignOrder.Accuracy : DesignOrder.Latency(double.PositiveInfinity);
        var uniform = new List<Candidate>();
        foreach (int b in options.Bits)
        {
            var restricted = new RestrictedModel(model, (gene, option) =>
            {
                var o = space.Layers[gene][option];
                return o.ActivationBits == b && (o.WeightBits == 0 || o.WeightBits == b);
            });
            var starts = MappingVariants(space, b)
                .Concat(result.Evaluated.OrderBy(d => d.Score, order).ThenBy(d => new Genome(d.Genome), GenomeOrder.Instance).Select(d => d.Genome))
                .Select(restricted.Inner).OfType<int[]>().Take(parameters.ObjectivePopulation).ToList();
            var found = ParetoSearch.Optimize(restricted, order, starts, parameters with { ObjectiveGenerations = parameters.ObjectiveGenerations / 2 }, cancellation);
            var design = new ScoredDesign(restricted.Outer(found.Genome), found.Score);
            uniform.Add(new Candidate(DesignOrigin.Uniform, b, space.Plan(design.Genome), design));
        }
        return uniform;
    }

    /// <summary>
    /// The search designs to measure: the best <see cref="ObjectiveCandidates"/> by the objective with distinct bits (for
    /// Latency with twice the error allowance: the prediction can be off either way), then front designs spread out, up
    /// to <see cref="MaxMeasured"/>. The order puts designs that fit first; when few do, the ones closest to fitting fill
    /// up, so that the error can name the closest.
    /// </summary>
    private static List<ScoredDesign> Candidates(ExploreModel model, ExploreOptions options, SearchResult result, List<Candidate> uniform, double widestError, double errorLimit)
    {
        double candidateLimit = options.Objective == ExploreObjective.Latency ? widestError + 2 * Math.Max(0, errorLimit - widestError) : double.PositiveInfinity;
        var order = options.Objective == ExploreObjective.Accuracy ? DesignOrder.Accuracy : DesignOrder.Latency(candidateLimit);
        var pool = result.Evaluated.Concat(uniform.Select(u => u.Design!)).ToList();
        var chosen = new List<ScoredDesign>();
        var bitsSeen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var d in pool.OrderBy(d => d.Score, order).ThenBy(d => new Genome(d.Genome), GenomeOrder.Instance))
        {
            if (chosen.Count >= ObjectiveCandidates) break;
            if (bitsSeen.Add(model.Space.BitsKey(d.Genome))) chosen.Add(d);
        }
        chosen.AddRange(Spread(result.Front, chosen, MaxMeasured - chosen.Count, widestError * SpreadErrorCeiling).ToList());
        return chosen;
    }

    /// <summary>
    /// The searched and uniform designs' bits on the Engine architecture: of the engine's lanes (<paramref name="lanes"/>) and the
    /// buffers (the design's own, or each by the build's Auto rule), the best for the objective and, when that is another,
    /// the one with the fewest cycles that fits. Each is what `dotnet build` makes of explore.props' items for it
    /// (FpgaEngineLanes set, every buffer explicit): the engine's own Auto rule (DSP48E1 or LUT lanes, the weight ROM's
    /// memory) runs as in a build, on the buffers such a build reads. The simulated error is the Layers design's, the
    /// engine being bit-exact to the same simulator.
    /// </summary>
    private static List<Candidate> EngineDesigns(IReadOnlyList<Candidate> measured, IReadOnlyList<int> lanes, PlanEstimator estimator, DesignOrder order, CancellationToken cancellation)
    {
        var layers = measured.Where(c => c.Plan.Engine is null && c.Origin != DesignOrigin.Project).ToList();
        var distinct = layers.DistinctBy(c => ChoicesKey(c.Plan)).ToList();
        var found = new LayerPlan[distinct.Count][];
        var fastest = DesignOrder.Latency(double.PositiveInfinity);
        Parallel.For(0, distinct.Count, new ParallelOptions { CancellationToken = cancellation }, i =>
        {
            var c = distinct[i];
            var variants = new List<(LayerPlan Plan, DesignScore Score)>();
            foreach (var buffers in new[] { c.Plan, c.Plan.With(n => c.Plan[n] with { Buffer = BufferResource.Auto }) })
                foreach (int l in lanes)
                {
                    cancellation.ThrowIfCancellationRequested();
                    var resolved = AutoMapping.ResolveEngineLanes(buffers.WithEngine(new EngineSettings(l)), estimator.Estimate);
                    if (!ReferenceEquals(buffers, c.Plan))
                    {
                        // the buffers as explore.props writes them, the engine as the project then sets it: what a build resolves
                        var rows = resolved.Estimate.Layers.ToDictionary(r => r.Name, StringComparer.Ordinal);
                        var written = c.Plan.With(n => c.Plan[n] with { Buffer = rows.TryGetValue(n, out var r) && r.BufferResource is "Block" or "Distributed" ? Enum.Parse<BufferResource>(r.BufferResource) : c.Plan[n].Buffer });
                        resolved = AutoMapping.ResolveEngineLanes(written.WithEngine(new EngineSettings(l)), estimator.Estimate);
                    }
                    var e = resolved.Estimate;
                    // the same bits, so the same error: the orders decide by fit, area and cycles
                    variants.Add((resolved.Plan, new DesignScore(0, e.Device.AreaFraction(e.Total), e.LatencyCycles, DesignEstimate.Overflow(e.Total, e.Budget))));
                }
            var best = variants.OrderBy(v => v.Score, order).First();
            var quickest = variants.OrderBy(v => v.Score, fastest).First();
            found[i] = ReferenceEquals(best.Plan, quickest.Plan) || !quickest.Score.Fits ? [best.Plan] : [best.Plan, quickest.Plan];
        });
        // one for each design, those with the same choices alike (as on Layers)
        var byChoices = distinct.Select((c, i) => (Key: ChoicesKey(c.Plan), Plans: found[i])).ToDictionary(x => x.Key, x => x.Plans, StringComparer.Ordinal);
        return layers.SelectMany(c => byChoices[ChoicesKey(c.Plan)].Select(plan => c with { Plan = plan })).ToList();
    }

    /// <summary>A key equal for plans with the same bits and buffers (the choices an Engine design keeps from a Layers one).</summary>
    private static string ChoicesKey(LayerPlan p) =>
        BitsKey(p) + "|" + string.Join(";", p.LayerNames.Select(n => p[n].Buffer.ToString()));

    /// <summary>Simulates (each distinct set of bits once) and estimates every candidate.</summary>
    private static List<MeasuredDesign> Measure(List<Candidate> candidates, ModelEvaluation evaluation, PlanEstimator estimator,
        Dictionary<string, SimulationResult> simulated, Dictionary<string, double> validated, CancellationToken cancellation)
    {
        var simulations = Simulate(evaluation, candidates.Select(c => c.Plan).ToList(), simulated, cancellation);
        var validation = Validate(evaluation, candidates.Select(c => c.Plan).ToList(), validated, cancellation);
        var estimates = new DesignEstimate[candidates.Count];
        Parallel.For(0, candidates.Count, new ParallelOptions { CancellationToken = cancellation }, i => estimates[i] = estimator.Estimate(candidates[i].Plan));
        return candidates.Select((c, i) => new MeasuredDesign(i, c.Origin, c.UniformBits, c.Plan, estimates[i], simulations[i], validation[i], c.Design?.Score.Error)).ToList();
    }

    /// <summary>One line about a measured design: error, area, resources, latency.</summary>
    public static string Describe(MeasuredDesign d) => string.Create(CultureInfo.InvariantCulture,
        $"{d.Label}: validation MSE {d.ValidationError:G4}, test MSE {d.Error:G4}, LUT-equivalent area {d.LutEquivalent:N0} ({d.Estimate.Total.Lut:N0} LUT, {d.Estimate.Total.Ff:N0} FF, {d.Estimate.Total.Bram18} BRAM18, {d.Estimate.Total.Dsp} DSP), {d.Cycles:N0} cycles{(d.Score.Fits ? "" : ", does not fit")}");

    private static string Describe(DesignScore s, Device device) => string.Create(CultureInfo.InvariantCulture,
        $"predicted MSE {s.Error:G4}, LUT-equivalent area {s.Area * device.Capacity.Lut:N0}, {s.Cycles:N0} cycles{(s.Fits ? "" : $", over budget by {s.Overflow * 100:0.#} %")}");

    /// <summary>TFPGA202 (nothing fits) or TFPGA203 (nothing fits within the error limit), naming the closest design.</summary>
    private static FpgaDiagnostic NoDesign(ExploreResult r, string projectFile)
    {
        var fitting = r.Designs.Where(d => d.Score.Fits).ToList();
        if (fitting.Count == 0)
        {
            var closest = r.Designs.OrderBy(d => d.Score.Overflow).ThenBy(d => d.Id).First();
            string over = string.Join(", ", closest.Estimate.OverBudget.Select(o => string.Create(CultureInfo.InvariantCulture,
                $"{o.Resource} {o.Used:N0}/{o.Available:N0} (largest: {string.Join(", ", closest.Estimate.Layers.OrderByDescending(l => l.Resources[o.Resource]).ThenBy(l => l.Name, StringComparer.Ordinal).Take(3).Select(l => string.Create(CultureInfo.InvariantCulture, $"{l.Name} {l.Resources[o.Resource]:N0}")))})")));
            return new FpgaDiagnostic(Severity.Error, ErrorCodes.ExploreNothingFits, projectFile, 0, string.Create(CultureInfo.InvariantCulture,
                $"no design fits {r.Part} at {r.LimitPercent:0.#} %: the closest, {closest.Label} in report/explore.md, is over with {over}; choose a larger part (FpgaPart), raise FpgaUtilizationLimitPercent or allow fewer bits (FpgaExploreBits)"));
        }
        var accurate = fitting.OrderBy(d => d.ValidationError).ThenBy(d => d.Id).First();
        return new FpgaDiagnostic(Severity.Error, ErrorCodes.ExploreNothingWithinError, projectFile, 0, string.Create(CultureInfo.InvariantCulture,
            $"no design that fits {r.Part} has a validation MSE within {r.Options.MaxErrorIncreasePercent:0.##} % of the uniform 8-bit design's ({r.ValidationReferenceError:G4}, limit {r.ErrorLimit:G4}): the most accurate that fits, {accurate.Label} in report/explore.md, has {accurate.ValidationError:G4} ({(accurate.ValidationError / r.ValidationReferenceError - 1) * 100:+0.#;-0.#} %); raise FpgaExploreMaxErrorIncreasePercent or use FpgaExploreObjective=Accuracy"));
    }

    /// <summary>
    /// Start points with every layer at <paramref name="bits"/>: the Auto rule's start (lanes 1, buffers by size, DSPs), LUT
    /// multipliers with block RAM, with LUT RAM, and the most lanes.
    /// </summary>
    private static IEnumerable<int[]> MappingVariants(DesignSpace space, int bits)
    {
        int[] Make(Func<LayerSpace, BufferResource> buffer, MultiplierMapping multiplier, Func<LayerSpace, int> lanes) =>
            space.Layers.Select(l => l.IndexOf(new LayerOption(l.HasWeightBits ? bits : 0, bits, buffer(l), lanes(l),
                l.Multipliers.Contains(multiplier) ? multiplier : MultiplierMapping.Dsp))).ToArray();
        BufferResource Auto(LayerSpace l) => Hdl.HardwareModel.Buffer(l.Layer.Elements, bits, BufferResource.Auto);
        yield return Make(Auto, MultiplierMapping.Dsp, _ => 1);
        yield return Make(_ => BufferResource.Block, MultiplierMapping.Lut, _ => 1);
        yield return Make(_ => BufferResource.Distributed, MultiplierMapping.Lut, _ => 1);
        yield return Make(Auto, MultiplierMapping.Lut, l => l.Lanes[^1]);
    }

    /// <summary>Front designs predicted this many times the reference error or more count as equally inaccurate when spreading the measurements.</summary>
    public const double SpreadErrorCeiling = 10;

    /// <summary>
    /// Up to <paramref name="count"/> front designs not already chosen, spread over the front: each next one is the farthest
    /// (in log error up to <paramref name="errorCeiling"/>, area and log cycles, each scaled to the front's range) from
    /// those chosen so far. The ceiling keeps the measurements where the designs are worth having.
    /// </summary>
    private static IEnumerable<ScoredDesign> Spread(IReadOnlyList<ScoredDesign> front, List<ScoredDesign> chosen, int count, double errorCeiling)
    {
        if (count <= 0 || front.Count == 0) yield break;
        double[] Point(DesignScore s) => [Math.Log(Math.Clamp(s.Error, 1e-300, Math.Max(errorCeiling, 1e-300))), s.Area, Math.Log(Math.Max(1, s.Cycles))];
        var points = front.Select(f => Point(f.Score)).ToList();
        var low = Enumerable.Range(0, 3).Select(k => points.Min(p => p[k])).ToArray();
        var span = Enumerable.Range(0, 3).Select(k => Math.Max(1e-12, points.Max(p => p[k]) - low[k])).ToArray();
        double[] Scaled(DesignScore s) { var p = Point(s); return [(p[0] - low[0]) / span[0], (p[1] - low[1]) / span[1], (p[2] - low[2]) / span[2]]; }
        var taken = chosen.Select(c => Scaled(c.Score)).ToList();
        var remaining = front.Where(f => !chosen.Any(c => c.Genome.AsSpan().SequenceEqual(f.Genome))).Select(f => (Design: f, Point: Scaled(f.Score))).ToList();
        for (int n = 0; n < count && remaining.Count > 0; n++)
        {
            int pick = 0;
            double far = -1;
            for (int i = 0; i < remaining.Count; i++)
            {
                var p = remaining[i].Point;
                double d = taken.Count == 0 ? 0 : taken.Min(t => Math.Sqrt((p[0] - t[0]) * (p[0] - t[0]) + (p[1] - t[1]) * (p[1] - t[1]) + (p[2] - t[2]) * (p[2] - t[2])));
                if (d > far) (pick, far) = (i, d);
            }
            taken.Add(remaining[pick].Point);
            yield return remaining[pick].Design;
            remaining.RemoveAt(pick);
        }
    }

    /// <summary>A plan with every layer at <paramref name="bits"/> (for its simulated error: nothing else matters).</summary>
    private static LayerPlan UniformBits(DesignSpace space, int bits) =>
        LayerPlan.From(space.LayerNames, _ => new LayerChoice(new LayerBits(bits, bits), BufferResource.Block, 1, MultiplierMapping.Dsp));

    private static string BitsKey(LayerPlan p) =>
        string.Join(";", p.LayerNames.Select(n => p.Bits(n).WeightBits.ToString(CultureInfo.InvariantCulture) + "," + p.Bits(n).ActivationBits.ToString(CultureInfo.InvariantCulture)));

    /// <summary>Simulates each set of bits not in <paramref name="simulated"/> once on the test set, in parallel; results in the order of <paramref name="plans"/>.</summary>
    private static SimulationResult[] Simulate(ModelEvaluation evaluation, IReadOnlyList<LayerPlan> plans, Dictionary<string, SimulationResult> simulated, CancellationToken cancellation) =>
        Once(plans, simulated, plan => evaluation.Evaluate(evaluation.Quantize(plan.Bits)), cancellation);

    /// <summary>The validation MSE (<see cref="Sensitivity.ValidationError"/>) of each set of bits, each simulated once.</summary>
    private static double[] Validate(ModelEvaluation evaluation, IReadOnlyList<LayerPlan> plans, Dictionary<string, double> validated, CancellationToken cancellation) =>
        Once(plans, validated, plan => Sensitivity.ValidationError(evaluation, evaluation.Quantize(plan.Bits)), cancellation);

    private static T[] Once<T>(IReadOnlyList<LayerPlan> plans, Dictionary<string, T> done, Func<LayerPlan, T> run, CancellationToken cancellation)
    {
        var keys = plans.Select(BitsKey).ToList();
        var missing = keys.Distinct(StringComparer.Ordinal).Where(k => !done.ContainsKey(k)).ToList();
        var results = new T[missing.Count];
        Parallel.For(0, missing.Count, new ParallelOptions { CancellationToken = cancellation }, i => results[i] = run(plans[keys.IndexOf(missing[i])]));
        for (int i = 0; i < missing.Count; i++) done[missing[i]] = results[i];
        return keys.Select(k => done[k]).ToArray();
    }
}
