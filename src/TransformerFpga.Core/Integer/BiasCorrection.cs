using System.Collections.Concurrent;
using TransformerFpga.Float;
using TransformerFpga.Layers.Linear;
using TransformerFpga.Model;

namespace TransformerFpga.Integer;

/// <summary>
/// Empirical bias correction, part of post-training quantization: rounding the weights and the activations moves the
/// mean of each linear layer's outputs away from the float model's, and every later layer adds that shift to its own
/// error. Layer by layer in execution order, each linear layer's bias moves by the mean difference, per output
/// channel, between its integer outputs (the layers before it already corrected) and the float model's on the
/// calibration windows. Only integer constants change, so the hardware is unchanged.
/// </summary>
public static class BiasCorrection
{
    /// <summary>The float model's mean output per channel of every linear layer over the windows.</summary>
    public static IReadOnlyDictionary<string, double[]> FloatMeans(FloatTransformer model, ModelConfig config, IReadOnlyList<float[]> windows)
    {
        var sums = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var x in windows)
            model.Forward(x, (layer, values) =>
            {
                if (!IntegerTransformer.HasWeights(layer)) return;
                // The head sees one pooled row; every other linear layer one row per time step.
                int rows = layer == "head" ? 1 : config.Window;
                if (!sums.TryGetValue(layer, out var sum)) sums[layer] = sum = new double[values.Length / rows];
                for (int i = 0; i < values.Length; i++) sum[i % sum.Length] += values[i];
            });
        foreach (var (layer, sum) in sums)
        {
            double rows = (double)windows.Count * (layer == "head" ? 1 : config.Window);
            for (int o = 0; o < sum.Length; o++) sum[o] /= rows;
        }
        return sums;
    }

    /// <summary>Moves the biases of <paramref name="model"/>'s linear layers in place.</summary>
    public static void Apply(IntegerTransformer model, IReadOnlyDictionary<string, double[]> floatMeans, IReadOnlyList<float[]> windows)
    {
        foreach (var target in model.Layers.OfType<LinearLayer>())
        {
            var floatMean = floatMeans[target.Name];
            // Integer sums: the same whatever order the windows are added in, so the threads keep it deterministic.
            var sum = new long[target.Out];
            Parallel.ForEach(Partitioner.Create(0, windows.Count), () => (Workspace: model.CreateWorkspace(), Sum: new long[target.Out]), (range, _, local) =>
            {
                for (int w = range.Item1; w < range.Item2; w++)
                {
                    model.QuantizeInput(windows[w], local.Workspace.Input);
                    foreach (var layer in model.Layers)
                    {
                        layer.Simulate(local.Workspace);
                        if (layer == target) break;
                    }
                    var y = local.Workspace.Of(target);
                    for (int i = 0; i < target.Rows * target.Out; i++) local.Sum[i % target.Out] += y[i];
                }
                return local;
            }, local => { lock (sum) for (int o = 0; o < sum.Length; o++) sum[o] += local.Sum[o]; });
            double inputScale = target.Sources.Count == 0 ? model.Input.Scale : target.Sources[0].Output.Scale;
            double accumulatorScale = inputScale * target.WeightScale.Scale;
            for (int o = 0; o < target.Out; o++)
            {
                double shift = target.Output.Scale * sum[o] / ((double)windows.Count * target.Rows) - floatMean[o];
                target.CorrectBias(o, -(long)Math.Round(shift / accumulatorScale));
            }
        }
    }
}
