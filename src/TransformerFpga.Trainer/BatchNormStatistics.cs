using TransformerFpga.Model;
using TransformerFpga.Training;

namespace TransformerFpga.Trainer;

/// <summary>
/// Batch-norm training scheme: the running mean and variance of every batch norm are measured once,
/// on the training windows with the initial weights (norm by norm, in forward order, so each norm sees
/// inputs already normalized by the earlier ones), rounded to float32 and then frozen; training learns
/// only weight and bias. The trained function is therefore exactly the eval-mode BatchNorm that
/// FloatTransformer and the hardware compute — no train/eval mismatch from batch statistics.
/// </summary>
public static class BatchNormStatistics
{
    public static void MeasureAndFreeze(TransformerNetwork network, IReadOnlyList<float[]> windows)
    {
        if (network.Shape.Norm != NormKind.Batch) return;
        var norms = network.Norms.ToArray();
        int d = network.Shape.DModel;
        for (int target = 0; target < norms.Length; target++)
        {
            var sum = new double[d];
            var sumOfSquares = new double[d];
            long rows = 0;
            foreach (var window in windows)
                network.Forward(window, (normIndex, input) =>
                {
                    if (normIndex != target) return;
                    for (int r = 0; r < input.Length / d; r++, rows++)
                        for (int c = 0; c < d; c++)
                        {
                            double value = input[r * d + c];
                            sum[c] += value;
                            sumOfSquares[c] += value * value;
                        }
                });
            var norm = norms[target];
            for (int c = 0; c < d; c++)
            {
                double mean = sum[c] / rows;
                norm.RunningMean!.Value[c] = mean;
                norm.RunningVar!.Value[c] = Math.Max(0, sumOfSquares[c] / rows - mean * mean);
            }
            norm.RunningMean!.RoundToFloat32();
            norm.RunningVar!.RoundToFloat32();
        }
    }
}
