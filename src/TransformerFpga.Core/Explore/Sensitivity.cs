using System.Globalization;
using TransformerFpga.Integer;

namespace TransformerFpga.Explore;

/// <summary>How much the test error grows when one layer's weights or activations take fewer bits.</summary>
/// <param name="Weight">Error increase per candidate weight bits (0 at the widest); empty for layers without weight bits.</param>
/// <param name="Activation">Error increase per candidate activation bits (0 at the widest).</param>
public sealed record LayerSensitivity(string Layer, IReadOnlyDictionary<int, double> Weight, IReadOnlyDictionary<int, double> Activation);

/// <summary>
/// Per-layer sensitivity measured with the integer simulator, and the error it predicts for a design.
/// <para>
/// The reference design has every layer at the widest candidate bits; each case narrows the weights or
/// the activations of one layer and simulates the validation windows (<see cref="ModelEvaluation.ValidationInputs"/>:
/// the test set plays no part in the exploration's choices). A case's effect is kept as the change of every prediction, not just of the error: the
/// predicted error of a design is the MSE of the reference predictions shifted by the changes of all its
/// narrowed choices (a first-order model of how quantization errors reach the output). Unlike adding up
/// error increases, it cannot go below zero, and two narrowings whose errors happen to cancel the
/// reference's bias do not count that luck twice. A design with one narrowed choice is predicted
/// exactly; every design the exploration reports is simulated on the validation windows (which it is chosen
/// by) and on the whole test set (reported beside) afterwards.
/// </para>
/// </summary>
public sealed class Sensitivity
{
    private readonly double[] _reference;
    private readonly double[] _targets;
    /// <summary>Per hardware layer: the prediction changes per weight bits and per activation bits (null at the widest).</summary>
    private readonly Dictionary<int, double[]?>[] _weightShift;
    private readonly Dictionary<int, double[]?>[] _activationShift;

    private Sensitivity(IReadOnlyList<LayerSensitivity> layers, double referenceError, int windows, int cases, double[] reference, double[] targets,
        Dictionary<int, double[]?>[] weightShift, Dictionary<int, double[]?>[] activationShift)
    {
        Layers = layers;
        ReferenceError = referenceError;
        Windows = windows;
        Cases = cases;
        _reference = reference;
        _targets = targets;
        _weightShift = weightShift;
        _activationShift = activationShift;
    }

    /// <summary>Per hardware layer, in the design space's order: the error increase of each narrowing alone.</summary>
    public IReadOnlyList<LayerSensitivity> Layers { get; }
    /// <summary>Validation MSE of the reference design on the measured windows.</summary>
    public double ReferenceError { get; }
    public int Windows { get; }
    /// <summary>Simulations run (one per layer and narrower bits).</summary>
    public int Cases { get; }

    /// <summary>
    /// The change of every prediction (window after window) that one layer's option makes alone: its weights' and its
    /// activations' changes added; null when the option narrows nothing.
    /// </summary>
    public double[]? Shift(int layer, LayerOption option)
    {
        var w = option.WeightBits == 0 ? null : _weightShift[layer].GetValueOrDefault(option.WeightBits);
        var a = _activationShift[layer].GetValueOrDefault(option.ActivationBits);
        if (w is null || a is null) return w ?? a;
        var sum = new double[w.Length];
        for (int i = 0; i < sum.Length; i++) sum[i] = w[i] + a[i];
        return sum;
    }

    /// <summary>The predicted validation MSE (on the measured windows) of a design, given the <see cref="Shift"/> of each of its layers' options.</summary>
    public double PredictedError(IEnumerable<double[]?> shifts)
    {
        var y = (double[])_reference.Clone();
        foreach (var shift in shifts)
            if (shift is not null)
                for (int i = 0; i < y.Length; i++) y[i] += shift[i];
        return Mse(y, _targets);
    }

    public static Sensitivity Measure(ModelEvaluation evaluation, DesignSpace space, Action<string> progress, CancellationToken cancellation)
    {
        int widest = space.WidestBits;
        var windows = ValidationWindows(evaluation);
        var cases = new List<(int Layer, bool Weights, int Bits)>();
        foreach (var l in space.Layers)
        {
            if (l.HasWeightBits) cases.AddRange(l.WeightBits.Where(b => b != widest).Select(b => (l.Index, true, b)));
            cases.AddRange(l.ActivationBits.Where(b => b != widest).Select(b => (l.Index, false, b)));
        }
        progress(string.Create(CultureInfo.InvariantCulture,
            $"explore: measuring per-layer sensitivity, {cases.Count} simulations of {windows.Length} validation windows"));

        var reference = Predictions(evaluation, evaluation.Quantize(_ => new LayerBits(widest, widest)), windows);
        var targets = Targets(evaluation, windows);
        double referenceError = Mse(reference, targets);
        var predictions = new double[cases.Count][];
        // Independent simulations; each result goes to its own slot, so the outcome does not depend on scheduling.
        int reported = 0;
        for (int start = 0; start < cases.Count; start += 8)
        {
            int end = Math.Min(cases.Count, start + 8);
            Parallel.For(start, end, new ParallelOptions { CancellationToken = cancellation }, c =>
            {
                var (layer, weights, bits) = cases[c];
                var model = evaluation.Quantize(name =>
                {
                    if (space.OwnerOf(name) != layer) return new LayerBits(widest, widest);
                    return weights ? new LayerBits(bits, widest) : new LayerBits(widest, bits);
                });
                predictions[c] = Predictions(evaluation, model, windows);
            });
            if (end * 4 / Math.Max(1, cases.Count) > reported && end < cases.Count)
            {
                reported = end * 4 / cases.Count;
                progress(string.Create(CultureInfo.InvariantCulture, $"explore: sensitivity {end}/{cases.Count}"));
            }
        }

        var layers = new List<LayerSensitivity>();
        var weightShift = new Dictionary<int, double[]?>[space.Layers.Count];
        var activationShift = new Dictionary<int, double[]?>[space.Layers.Count];
        foreach (var l in space.Layers)
        {
            var w = new SortedDictionary<int, double>();
            var a = new SortedDictionary<int, double>();
            weightShift[l.Index] = new() { [widest] = null };
            activationShift[l.Index] = new() { [widest] = null };
            if (l.HasWeightBits) w[widest] = 0;
            a[widest] = 0;
            for (int c = 0; c < cases.Count; c++)
            {
                if (cases[c].Layer != l.Index) continue;
                (cases[c].Weights ? w : a)[cases[c].Bits] = Mse(predictions[c], targets) - referenceError;
                (cases[c].Weights ? weightShift : activationShift)[l.Index][cases[c].Bits] = predictions[c].Select((y, i) => y - reference[i]).ToArray();
            }
            layers.Add(new LayerSensitivity(l.Name, w, a));
        }
        return new Sensitivity(layers, referenceError, windows.Length, cases.Count, reference, targets, weightShift, activationShift);
    }

    /// <summary>The validation windows every measurement uses: all of them.</summary>
    public static int[] ValidationWindows(ModelEvaluation evaluation) => Enumerable.Range(0, evaluation.ValidationInputs.Length).ToArray();

    /// <summary>The targets of <paramref name="windows"/>, window after window.</summary>
    public static double[] Targets(ModelEvaluation evaluation, IReadOnlyList<int> windows) => windows.SelectMany(w => evaluation.ValidationTargets[w]).ToArray();

    /// <summary>The validation MSE of a model on <see cref="ValidationWindows"/>.</summary>
    public static double ValidationError(ModelEvaluation evaluation, IntegerTransformer model)
    {
        var windows = ValidationWindows(evaluation);
        return Mse(Predictions(evaluation, model, windows), Targets(evaluation, windows));
    }

    /// <summary>The integer model's de-normalized predictions for the given validation windows, window after window.</summary>
    public static double[] Predictions(ModelEvaluation evaluation, IntegerTransformer model, IReadOnlyList<int> windows)
    {
        var workspace = model.CreateWorkspace();
        var result = new List<double>();
        foreach (int w in windows)
        {
            model.QuantizeInput(evaluation.ValidationInputs[w], workspace.Input);
            var q = model.Simulate(workspace);
            result.AddRange(evaluation.Denormalize(q.Select(v => model.OutputLayer.Output.Dequantize(v)).ToArray()));
        }
        return result.ToArray();
    }

    /// <summary>Mean squared difference, as report/simulation.json's MSE.</summary>
    public static double Mse(double[] predictions, double[] targets)
    {
        double squares = 0;
        for (int i = 0; i < predictions.Length; i++)
        {
            double e = predictions[i] - targets[i];
            squares += e * e;
        }
        return predictions.Length == 0 ? 0 : squares / predictions.Length;
    }
}
