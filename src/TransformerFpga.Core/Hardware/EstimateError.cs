namespace TransformerFpga.Hardware;

/// <summary>
/// How far the resource estimate may be off, per resource, in % of the estimate: the worst error measured on
/// held-out designs for the shipped coefficients (the table in docs/hardware.md), or the error left after a calibration
/// against Vivado for a project's fpga-calibration.json.
/// </summary>
public static class EstimateError
{
    /// <summary>
    /// Worst held-out error of the shipped coefficients against flattened Yosys synthesis, over both architectures: seeds
    /// 901–912 of the wide space (Layers; LUT 5.9 %, FF 7.9 %, LUT RAM 16.8 %) and 941–946 (Engine; LUT 4.1 %, FF 5.7 %,
    /// LUT RAM 0.6 %), drawn after the last change of the model's coefficients, measured with `Bench -- resources table …
    /// 901 12 --wide` and `… 941 6 --engine`, and measured again (no coefficient changed) after the templates changed: the
    /// softmax's probabilities became unsigned and the engine got a weight ROM per memory (the test
    /// EstimateHoldsAgainstFlattenedSynthesisOfUnseenDesigns repeats 8 of them).
    /// RAMB18 and DSP48E1 are counted by rules that were exact on every design.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, double> HeldOutWorstPercent = new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["LUT"] = 5.9, ["LUTRAM"] = 16.8, ["FF"] = 7.9, ["BRAM18"] = 0, ["DSP"] = 0,
    };

    /// <summary>The error in effect for <paramref name="coefficients"/>: a calibration's own, else the held-out figure.</summary>
    public static double WorstPercent(ResourceCoefficients coefficients, string resource) =>
        coefficients.ErrorPercent is { } calibrated && calibrated.TryGetValue(resource, out double error) ? error : HeldOutWorstPercent[resource];

    /// <summary>
    /// The error a calibration leaves, per resource fitted (LUT, LUTRAM, FF): the larger of the mean per-module error
    /// and the design total's, as both bound how far a similar design's estimate can be off. BRAM18 and DSP keep
    /// their counting rules and the held-out figure.
    /// </summary>
    public static Dictionary<string, double> FromCalibration(IReadOnlyList<CalibrationError> after)
    {
        var errors = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var e in after.Where(e => e.IsPercent))
            errors[e.Resource] = Math.Round(Math.Max(Math.Abs(e.Modules), Math.Abs(e.Total)), 1);
        return errors;
    }

    /// <summary>
    /// Resources of a design that fits but comes within the estimate's worst error of the budget: the estimate
    /// cannot promise that Vivado's count stays below it.
    /// </summary>
    public static IReadOnlyList<(string Resource, int Used, int Available, double ErrorPercent)> AtTheEdge(DesignEstimate design, ResourceCoefficients coefficients)
    {
        var total = design.Total;
        var budget = design.Budget;
        var edge = new List<(string, int, int, double)>();
        foreach (string resource in Resources.Names)
        {
            double error = WorstPercent(coefficients, resource);
            int used = total[resource];
            if (used <= budget[resource] && used > 0 && used * (1 + error / 100) > budget[resource])
                edge.Add((resource, used, budget[resource], error));
        }
        return edge;
    }
}
