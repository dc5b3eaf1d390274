using System.Diagnostics;
using TransformerFpga.Data;
using TransformerFpga.Float;
using TransformerFpga.Model;
using TransformerFpga.Training;

namespace TransformerFpga.Trainer;

/// <summary>One training run: the command line's work, callable from other tools (the paper benchmark trains its model family with it).</summary>
public static class Training
{
    /// <summary>Trains the model the options describe, writes its JSON and safetensors, reloads and evaluates them; 0 when the check passes.</summary>
    public static int TrainAndEvaluate(TrainerOptions options, TextWriter log)
    {
        string dataDirectory = Path.GetFullPath(options.DataDirectory!);
        string outputDirectory = Path.GetFullPath(options.OutputDirectory!);
        string trainPath = Path.Combine(dataDirectory, options.TrainFile);
        string testPath = Path.Combine(dataDirectory, options.TestFile);

        // Normalization from the training data (population std), as the model JSON will state it.
        var train = CsvSeries.Load(trainPath, options.InputColumns, options.TargetColumns);
        var (mean, std) = train.InputStatistics();
        bool targetsAreInputs = options.TargetColumns.All(t => options.InputColumns.Contains(t));
        double[] targetMean, targetStd;
        if (targetsAreInputs)
        {
            var source = options.TargetColumns.Select(t => Array.IndexOf(options.InputColumns, t)).ToArray();
            targetMean = source.Select(i => mean[i]).ToArray();
            targetStd = source.Select(i => std[i]).ToArray();
        }
        else (targetMean, targetStd) = train.TargetStatistics();

        var shape = new NetworkShape(options.Window, options.InputColumns.Length, options.TargetColumns.Length,
            options.DModel, options.Heads, options.EffectiveFfnDim, options.Layers, options.Norm);
        var trainWindows = new WindowSet(train, options.Window, mean, std);
        var normalizedTargets = trainWindows.Targets
            .Select(row => row.Select((value, o) => (value - targetMean[o]) / targetStd[o]).ToArray()).ToArray();

        log.WriteLine($"training {options.Name}: window {shape.Window}, {shape.InputFeatures}→{shape.OutputFeatures} features, d {shape.DModel}, " +
            $"{shape.Heads} head(s), ffn {shape.FfnDim}, {shape.EncoderLayers} layer(s), {options.Norm.ToString().ToLowerInvariant()} norm; " +
            $"{trainWindows.Count} windows, {options.Epochs} epochs, batch {options.BatchSize}, lr {options.LearningRate}, weight decay {options.WeightDecay}, seed {options.Seed}");
        var clock = Stopwatch.StartNew();
        var random = new DeterministicRandom(options.Seed);
        var network = new TransformerNetwork(shape);
        network.Initialize(random);
        BatchNormStatistics.MeasureAndFreeze(network, trainWindows.Inputs);
        TrainingLoop.Run(network, trainWindows.Inputs, normalizedTargets, options, random, log);
        foreach (var parameter in network.Parameters.All) parameter.RoundToFloat32();
        log.WriteLine($"training time {clock.Elapsed.TotalSeconds:F1} s");

        Directory.CreateDirectory(outputDirectory);
        string weightsFile = options.Name + ".safetensors";
        string jsonPath = Path.Combine(outputDirectory, options.Name + ".json");
        ModelWriter.WriteSafeTensors(Path.Combine(outputDirectory, weightsFile), network);
        ModelWriter.WriteJson(jsonPath, weightsFile, shape, options, trainPath, testPath,
            new ModelWriter.Normalization(mean, std, targetsAreInputs ? null : targetMean, targetsAreInputs ? null : targetStd));
        log.WriteLine($"wrote {jsonPath} and {weightsFile}");

        return Evaluate(jsonPath, network, log) ? 0 : 1;
    }

    /// <summary>Reloads the written files through the Core, checks the trainer's forward against FloatTransformer, prints test MSE.</summary>
    private static bool Evaluate(string jsonPath, TransformerNetwork network, TextWriter log)
    {
        var config = ModelLoader.LoadConfig(jsonPath);
        var reference = new FloatTransformer(config, TransformerWeights.Load(config));
        var data = config.Data;
        var test = CsvSeries.Load(data.TestPath, data.InputColumns, data.TargetColumns);
        var testWindows = new WindowSet(test, config.Window, data.InputMean, data.InputStd);
        var calibrationWindows = new WindowSet(CsvSeries.Load(data.CalibrationPath, data.InputColumns, data.TargetColumns), config.Window, data.InputMean, data.InputStd);

        // The trainer's forward must be the float semantics the rest of the product uses.
        const double tolerance = 1e-9;
        double worst = 0;
        foreach (var (windows, index) in new[] { (testWindows, 0), (testWindows, testWindows.Count / 2), (testWindows, testWindows.Count - 1),
                                                 (calibrationWindows, 0), (calibrationWindows, calibrationWindows.Count / 2), (calibrationWindows, calibrationWindows.Count - 1) })
        {
            var expected = reference.Forward(windows.Inputs[index]);
            var actual = network.Forward(windows.Inputs[index]);
            for (int o = 0; o < expected.Length; o++)
                worst = Math.Max(worst, Math.Abs(actual[o] - expected[o]) / Math.Max(Math.Abs(expected[o]), 1e-6));
        }
        log.WriteLine($"trainer forward vs FloatTransformer: max relative difference {worst:E2} (limit {tolerance:E0}) on 6 windows");

        int outputs = config.OutputFeatures;
        var persistenceColumn = data.TargetColumns.Select(t => Array.IndexOf(data.InputColumns, t)).ToArray();
        double modelSquaredError = 0, persistenceSquaredError = 0;
        for (int w = 0; w < testWindows.Count; w++)
        {
            var prediction = reference.Forward(testWindows.Inputs[w]);
            for (int o = 0; o < outputs; o++)
            {
                double actual = testWindows.Targets[w][o];
                double forecast = prediction[o] * data.TargetStd[o] + data.TargetMean[o];
                modelSquaredError += (forecast - actual) * (forecast - actual);
                if (persistenceColumn[o] >= 0)
                {
                    double lastValue = test.Inputs[w + config.Window - 1][persistenceColumn[o]];
                    persistenceSquaredError += (lastValue - actual) * (lastValue - actual);
                }
            }
        }
        int samples = testWindows.Count * outputs;
        log.WriteLine($"test windows {testWindows.Count}: float model MSE {modelSquaredError / samples:F5}, " +
            (persistenceColumn.All(c => c >= 0) ? $"persistence MSE {persistenceSquaredError / samples:F5}" : "persistence n/a (a target is not an input)") +
            " (squared target units, de-normalized)");

        if (worst > tolerance)
        {
            Console.Error.WriteLine($"error: the trainer's forward differs from FloatTransformer by {worst:E2} relative (limit {tolerance:E0})");
            return false;
        }
        return true;
    }
}
