using TransformerFpga.Training;

namespace TransformerFpga.Trainer;

/// <summary>Minibatch AdamW on the mean squared error of the normalized targets. Single-threaded, so deterministic.</summary>
public static class TrainingLoop
{
    /// <param name="targets">[window][output], normalized with the target columns' training mean and std.</param>
    public static void Run(TransformerNetwork network, IReadOnlyList<float[]> windows, IReadOnlyList<double[]> targets,
        TrainerOptions options, DeterministicRandom random, TextWriter log)
    {
        var optimizer = new AdamOptimizer(network.Parameters, options.WeightDecay);
        int batchesPerEpoch = (windows.Count + options.BatchSize - 1) / options.BatchSize;
        long totalSteps = (long)batchesPerEpoch * options.Epochs, step = 0;
        int outputs = network.Shape.OutputFeatures;
        var order = Enumerable.Range(0, windows.Count).ToArray();
        var outputGradient = new double[outputs];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            random.Shuffle(order);
            double squaredErrorSum = 0;
            for (int start = 0; start < order.Length; start += options.BatchSize)
            {
                int count = Math.Min(options.BatchSize, order.Length - start);
                network.Parameters.ClearGradients();
                for (int b = 0; b < count; b++)
                {
                    int index = order[start + b];
                    var prediction = network.Forward(windows[index]);
                    for (int o = 0; o < outputs; o++)
                    {
                        double error = prediction[o] - targets[index][o];
                        squaredErrorSum += error * error;
                        outputGradient[o] = 2 * error / (count * outputs);
                    }
                    network.Backward(outputGradient);
                }
                optimizer.Step(LearningRate(options, step++, totalSteps));
            }
            if (epoch == 1 || epoch % 5 == 0 || epoch == options.Epochs)
                log.WriteLine($"epoch {epoch,4}  train MSE (normalized) {squaredErrorSum / (windows.Count * outputs):E4}  {clock.Elapsed.TotalSeconds,7:F1} s");
        }
    }

    /// <summary>Linear warm-up, then cosine decay to 1% of the peak: large steps early, fine ones at the end.</summary>
    private static double LearningRate(TrainerOptions options, long step, long totalSteps)
    {
        if (step < options.WarmupSteps) return options.LearningRate * (step + 1) / options.WarmupSteps;
        double progress = totalSteps <= options.WarmupSteps ? 1 : (double)(step - options.WarmupSteps) / (totalSteps - options.WarmupSteps);
        const double floor = 0.01;
        return options.LearningRate * (floor + (1 - floor) * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }
}
