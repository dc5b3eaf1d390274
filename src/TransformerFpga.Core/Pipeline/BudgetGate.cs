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

    /// <summary>A design that fits, but within the estimate's worst error of the budget.</summary>
    public const string EdgeCode = "TFPGA110";

    /// <summary>A change to the plan, as the MSBuild item (or, with <paramref name="Property"/>, the property) that makes it.</summary>
    public sealed record Change(string Item, LayerPlan Plan, string Layer = "", int Kind = -1, bool Property = false);

    /// <param name="estimate">Estimates a plan (regenerating its hardware).</param>
    /// <param name="testMse">Simulates a plan on the test windows: the integer model's test MSE (the suggestion says what it costs).</param>
    /// <param name="currentTestMse">The test MSE of <paramref name="plan"/>.</param>
    public static IReadOnlyList<FpgaDiagnostic> Check(DesignEstimate design, LayerPlan plan, Func<LayerPlan, DesignEstimate> estimate,
        bool asWarning, string projectFile, CancellationToken cancellation, Func<LayerPlan, double> testMse, double currentTestMse)
    {
        var over = design.OverBudget;
        if (over.Count == 0) return [];
        var (changes, fitted) = SearchFix(design, plan, estimate, cancellation);
        if (fitted is null && plan.Engine is not null) (changes, fitted) = LayersFix(plan, estimate, cancellation);
        string fix = fitted is null
            ? "no single-layer change of buffer memory, lanes, multipliers or bits found that fits; run `dotnet build -t:FpgaExplore` to search every layer's choices at once, reduce dModel/ffnDim or choose a larger part (FpgaPart)"
            : "smallest change found that fits, " + (changes.Any(c => c.Property)
                ? "as a property and items to paste into the project (the property into a PropertyGroup): "
                : "as items to paste into the project: ")
              + string.Join(" ", changes.Select(c => c.Item)) + " → " + fitted.SummaryLine()
              + string.Create(CultureInfo.InvariantCulture, $"; test MSE {testMse(changes[^1].Plan):G4} (now {currentTestMse:G4})");
        var diagnostics = new List<FpgaDiagnostic>();
        foreach (var (resource, used, available) in over)
        {
            var top = design.Layers.OrderByDescending(l => l.Resources[resource]).ThenBy(l => l.Name, StringComparer.Ordinal).Take(3)
                .Select(l => string.Create(CultureInfo.InvariantCulture, $"{l.Name} {l.Resources[resource]:N0}"));
            string message = string.Create(CultureInfo.InvariantCulture,
                $"{resource} {used:N0} used, {available:N0} available ({LimitText(design)}); largest consumers: {string.Join(", ", top)}; {fix}");
            diagnostics.Add(new FpgaDiagnostic(asWarning ? Severity.Warning : Severity.Error, Codes[resource], projectFile, 0, message));
        }
        return diagnostics;
    }

    /// <summary>`xc7s15ftgb196-1`, or `90 % of xc7s15ftgb196-1` under a utilization limit.</summary>
    private static string LimitText(DesignEstimate design) => design.LimitPercent >= 100
        ? design.Part
        : string.Create(CultureInfo.InvariantCulture, $"{design.LimitPercent:0.#} % of {design.Part}");

    /// <summary>One warning per resource of a fitting design that comes within the estimate's worst error of the budget.</summary>
    public static IReadOnlyList<FpgaDiagnostic> EdgeWarnings(DesignEstimate design, ResourceCoefficients coefficients, string projectFile)
    {
        string advice = coefficients.ErrorPercent is null ? "calibrate against Vivado (FpgaCalibrationReport) or leave headroom" : "check Vivado's report or leave headroom";
        return EstimateError.AtTheEdge(design, coefficients).Select(e => new FpgaDiagnostic(Severity.Warning, EdgeCode, projectFile, 0, string.Create(CultureInfo.InvariantCulture,
            $"{e.Resource} {e.Used:N0}/{e.Available:N0} ({LimitText(design)}): within the estimate's worst error ({e.ErrorPercent:0.0##} %) of the limit; {advice}"))).ToList();
    }

    /// <summary>
    /// The clock gate: FpgaClockMHz above the estimated Fmax is TFPGA106 (a warning with FpgaBudgetAsWarning),
    /// naming the critical layer, its path and the clock that is met.
    /// </summary>
    public static IReadOnlyList<FpgaDiagnostic> CheckClock(DesignEstimate design, bool asWarning, string projectFile)
    {
        if (!design.MissesClock) return [];
        var critical = design.Timing.Critical;
        // Floor to 0.1 MHz so that the suggested clock itself passes the gate.
        double suggestion = Math.Floor(design.Timing.FmaxMHz * 10) / 10;
        string message = string.Create(CultureInfo.InvariantCulture,
            $"FpgaClockMHz {design.ClockMHz:0.###} is above the estimated Fmax {design.Timing.FmaxMHz:0.#} MHz; critical layer {critical.Name}: {critical.Nanoseconds:0.00} ns ({critical.Description}); lower FpgaClockMHz to {suggestion:0.#}");
        return [new FpgaDiagnostic(asWarning ? Severity.Warning : Severity.Error, ErrorCodes.ClockAboveFmax, projectFile, 0, message)];
    }

    /// <summary>
    /// Greedy, at most <see cref="MaxChanges"/> changes, each the single-layer change that removes the most
    /// overflow. Changes that keep the accuracy (buffer memory, multiplier mapping, lanes) are tried before
    /// fewer bits, which are only suggested when no such change helps. The effect of every candidate is read
    /// from a few whole-plan estimates (layers' resources add up), and the result is estimated exactly.
    /// </summary>
    public static (IReadOnlyList<Change> Changes, DesignEstimate? Fitted) SearchFix(DesignEstimate design, LayerPlan plan, Func<LayerPlan, DesignEstimate> estimate, CancellationToken cancellation)
    {
        var applied = new List<Change>();
        var current = design;
        var currentPlan = plan;
        for (int step = 0; step < MaxChanges && !current.Fits; step++)
        {
            double overflow = Overflow(current);
            var rows = current.Layers.ToDictionary(l => l.Name, StringComparer.Ordinal);
            (Change Change, double Gain)? best = null;
            foreach (bool keepsAccuracy in new[] { true, false })
            {
                foreach (var (kind, kindIndex) in Kinds.Select((k, i) => (k, i)).Where(k => k.k.KeepsAccuracy == keepsAccuracy))
                {
                    cancellation.ThrowIfCancellationRequested();
                    var changed = currentPlan.LayerNames.Where(rows.ContainsKey)
                        .Select(n => (Layer: n, Choice: kind.Apply(currentPlan[n], rows[n]))).Where(c => c.Choice is not null).ToList();
                    if (changed.Count == 0) continue;
                    var choices = changed.ToDictionary(c => c.Layer, c => c.Choice!, StringComparer.Ordinal);
                    var deltas = current.LayerChanges(estimate(currentPlan.With(n => choices.GetValueOrDefault(n, currentPlan[n]))));
                    foreach (var (layer, choice) in changed)
                    {
                        double gain = overflow - DesignEstimate.Overflow(current.Total + deltas[layer], current.Budget);
                        if (gain > 1e-9 && (best is null || gain > best.Value.Gain + 1e-9))
                            best = (new Change(kind.Item(layer, choice!), currentPlan.With(n => n == layer ? choice! : currentPlan[n]), layer, kindIndex), gain);
                    }
                }
                if (best is not null) break;
            }
            if (best is null) break;
            // A second step of the same kind on the same layer (8 → 6 → 4 bits) is one change for the user.
            applied.RemoveAll(c => c.Layer == best.Value.Change.Layer && c.Kind == best.Value.Change.Kind);
            applied.Add(best.Value.Change);
            currentPlan = best.Value.Change.Plan;
            current = estimate(currentPlan);
        }
        return current.Fits ? (applied, current) : (applied, null);
    }

    /// <summary>
    /// For an Engine design that no single-layer change makes fit: one datapath per layer instead (an engine layer's
    /// lanes and weights are the engine row's, which the per-row search does not weigh; the Auto rule has already split
    /// the weights), as the build's Auto rule makes it, then the single-layer changes of <see cref="SearchFix"/> on that design.
    /// </summary>
    private static (IReadOnlyList<Change> Changes, DesignEstimate? Fitted) LayersFix(LayerPlan plan, Func<LayerPlan, DesignEstimate> estimate, CancellationToken cancellation)
    {
        var layers = AutoMapping.Resolve(plan.WithEngine(null), estimate);
        var architecture = new Change("<FpgaArchitecture>Layers</FpgaArchitecture>", layers.Plan, Property: true);
        if (layers.Estimate.Fits) return ([architecture], layers.Estimate);
        var (changes, fitted) = SearchFix(layers.Estimate, layers.Plan, estimate, cancellation);
        return fitted is null ? ([], null) : ([architecture, .. changes], fitted);
    }

    public const int MaxChanges = 12;

    private static double Overflow(DesignEstimate d) => DesignEstimate.Overflow(d.Total, d.Budget);

    /// <summary>A kind of single-layer change: the new choice (null when it does not apply) and the item a user would add for it.</summary>
    private sealed record ChangeKind(bool KeepsAccuracy, Func<LayerChoice, LayerEstimate, LayerChoice?> Apply, Func<string, LayerChoice, string> Item);

    private static readonly ChangeKind[] Kinds =
    [
        new(true, (c, row) => row.BufferResource == "Distributed" ? c with { Buffer = BufferResource.Block } : row.BufferResource == "Block" ? c with { Buffer = BufferResource.Distributed } : null,
            (layer, c) => $"<BufferResource Include=\"{layer}\" Resource=\"{c.Buffer}\" />"),
        // The weight ROM to the other memory: out of block RAM when it is there (its bias ROM may stay in LUTs), else into it.
        new(true, (c, row) => !row.HasWeightRom || row.Rom is null ? null
                : c with { Weights = row.Rom.StartsWith("Block", StringComparison.Ordinal) ? BufferResource.Distributed : BufferResource.Block },
            (layer, c) => $"<WeightResource Include=\"{layer}\" Resource=\"{c.Weights}\" />"),
        new(true, (c, row) => c.Multiplier != MultiplierMapping.Lut && row.Resources.Dsp > 0 ? c with { Multiplier = MultiplierMapping.Lut }
                : c.Multiplier == MultiplierMapping.Lut ? c with { Multiplier = MultiplierMapping.Dsp } : null,
            (layer, c) => $"<LayerParallelism Include=\"{layer}\" Multiplier=\"{c.Multiplier}\" />"),
        new(true, (c, row) => row.Lanes > 1 ? c with { Lanes = row.Lanes / 2, LanesExplicit = true } : null,
            (layer, c) => $"<LayerParallelism Include=\"{layer}\" Lanes=\"{c.Lanes.ToString(CultureInfo.InvariantCulture)}\" />"),
        new(false, (c, row) => row.WeightBits > MinSuggestedBits + 1 ? c with { Bits = c.Bits with { WeightBits = Math.Max(MinSuggestedBits, c.Bits.WeightBits - 2) } } : null,
            (layer, c) => $"<LayerPrecision Include=\"{layer}\" WeightBits=\"{c.Bits.WeightBits.ToString(CultureInfo.InvariantCulture)}\" />"),
        new(false, (c, row) => row.ActivationBits > MinSuggestedBits + 1 && row.BufferResource != "Fused" ? c with { Bits = c.Bits with { ActivationBits = Math.Max(MinSuggestedBits, c.Bits.ActivationBits - 2) } } : null,
            (layer, c) => $"<LayerPrecision Include=\"{layer}\" ActivationBits=\"{c.Bits.ActivationBits.ToString(CultureInfo.InvariantCulture)}\" />"),
    ];

    /// <summary>Fewer bits than this are not suggested: accuracy usually collapses below.</summary>
    private const int MinSuggestedBits = 4;
}
