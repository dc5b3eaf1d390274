using TransformerFpga.Float;
using TransformerFpga.Integer;
using TransformerFpga.Layers.Linear;
using TransformerFpga.Model;
using TransformerFpga.Training;

namespace TransformerFpga.FineTuning;

/// <summary>One epoch's figures; MSE in target units squared.</summary>
public sealed record FineTuneEpoch(int Epoch, int Epochs, double TrainingMse, double ValidationMse, int BestEpoch, double BestValidationMse);

/// <param name="Weights">The best epoch's float32 weights (the source weights when no epoch beat them).</param>
/// <param name="BestEpoch">0 when no epoch beat the source weights.</param>
public sealed record FineTuneResult(TransformerWeights Weights, int BestEpoch, double ValidationMseBefore, double ValidationMseAfter,
    IReadOnlyList<FineTuneEpoch> Epochs, int TrainingWindows, int ValidationWindows);

/// <summary>
/// Quantization-aware fine-tuning of a model's float weights for one plan (per-layer bits).
/// <para>
/// Forward: the integer simulator itself (<see cref="SimulatedActivations"/>), on the model quantized from the current
/// weights by the build's own post-training quantization (less its bias correction, which would cost a simulation of
/// the calibration windows per step: the trained biases take its part); there is no float imitation of the integer rules to drift
/// from them. Backward: the float network's gradient evaluated at the simulator's dequantized activations and
/// quantized weights, with the straight-through estimator: each quantizer passes the gradient where its value did
/// not saturate and blocks it where it did (<see cref="TransformerNetwork.Backward"/>).
/// </para>
/// <para>
/// Scales: weight scales follow the weights at every step (the model is quantized again after each Adam step);
/// activation scales are calibrated again from the current weights after every epoch, by the build's own calibration
/// on the build's calibration windows. The build calibrates the fine-tuned weights itself, so training with the scales
/// of the current weights keeps training's integer model the one the build will make; recalibrating after every step
/// would cost a float pass over the calibration windows per step.
/// </para>
/// <para>
/// The best epoch is the one with the least integer-simulator MSE on the held-out validation windows, measured exactly
/// as the build will quantize those weights (recalibrated scales, post-training quantization with its bias correction); the source weights
/// (epoch 0) compete too, so fine-tuning never returns weights worse than it started from. Single-threaded (but for the
/// bias correction's integer sums, which are the same in any order) with a
/// fixed seed: the same inputs give the same weights, bit for bit.
/// </para>
/// </summary>
public static class QuantizationAwareTraining
{
    public static FineTuneResult Run(ModelEvaluation source, Func<string, LayerBits> bits, FineTuneOptions options,
        Action<FineTuneEpoch>? progress = null, CancellationToken cancellation = default)
    {
        var config = source.Config;
        var data = FineTuningData.Load(config, options.ValidationPercent);
        var network = new TransformerNetwork(new NetworkShape(config.Window, config.InputFeatures, config.OutputFeatures,
            config.DModel, config.Heads, config.FfnDim, config.EncoderLayers, config.Norm));
        Load(network, source.Weights);
        foreach (var linear in network.Linears) linear.ForwardWeight = new double[linear.Weight.Value.Length];

        double before = ValidationMse(source.Quantize(bits), data, config);
        var best = (Weights: source.Weights, Epoch: 0, Mse: before);
        var ranges = source.Ranges;
        var optimizer = new AdamOptimizer(network.Parameters, weightDecay: 0);
        var random = new DeterministicRandom(options.Seed);
        int windows = data.TrainingInputs.Length, outputs = config.OutputFeatures;
        var order = Enumerable.Range(0, windows).ToArray();
        var outputGradient = new double[outputs];
        long stepsPerEpoch = (windows + options.BatchSize - 1) / options.BatchSize, totalSteps = stepsPerEpoch * options.Epochs, step = 0;
        var epochs = new List<FineTuneEpoch>();
        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            random.Shuffle(order);
            double squaredErrors = 0;
            for (int start = 0; start < windows; start += options.BatchSize)
            {
                cancellation.ThrowIfCancellationRequested();
                var model = IntegerTransformer.Quantize(config, Snapshot(network, config), ranges, bits);
                UseQuantizedWeights(network, model);
                var simulator = new SimulatedActivations(model);
                int count = Math.Min(options.BatchSize, windows - start);
                network.Parameters.ClearGradients();
                for (int b = 0; b < count; b++)
                {
                    int index = order[start + b];
                    simulator.Run(data.TrainingInputs[index]);
                    var prediction = network.ForwardQuantized(simulator.Read);
                    for (int o = 0; o < outputs; o++)
                    {
                        double error = prediction[o] - data.TrainingTargets[index][o];
                        squaredErrors += error * error * config.Data.TargetStd[o] * config.Data.TargetStd[o];
                        outputGradient[o] = 2 * error / (count * outputs);
                    }
                    network.Backward(outputGradient);
                }
                optimizer.Step(LearningRate(options.LearningRate, step++, totalSteps));
            }

            var candidate = Snapshot(network, config);
            ranges = IntegerTransformer.Calibrate(new FloatTransformer(config, candidate), source.CalibrationWindows);
            cancellation.ThrowIfCancellationRequested();
            double validation = ValidationMse(source.Quantize(candidate, ranges, bits), data, config);
            if (validation < best.Mse) best = (candidate, epoch, validation);
            var report = new FineTuneEpoch(epoch, options.Epochs, squaredErrors / ((double)windows * outputs), validation, best.Epoch, best.Mse);
            epochs.Add(report);
            progress?.Invoke(report);
        }
        return new FineTuneResult(best.Weights, best.Epoch, before, best.Mse, epochs, windows, data.ValidationInputs.Length);
    }

    /// <summary>MSE of the integer model on the validation windows, in target units squared.</summary>
    public static double ValidationMse(IntegerTransformer model, FineTuningData data, ModelConfig config)
    {
        var workspace = model.CreateWorkspace();
        double sum = 0;
        for (int w = 0; w < data.ValidationInputs.Length; w++)
        {
            var y = model.Predict(data.ValidationInputs[w], workspace);
            for (int o = 0; o < y.Length; o++)
            {
                double error = y[o] * config.Data.TargetStd[o] + config.Data.TargetMean[o] - data.ValidationTargets[w][o];
                sum += error * error;
            }
        }
        return sum / ((double)data.ValidationInputs.Length * config.OutputFeatures);
    }

    /// <summary>Cosine decay from the peak to 1 % of it: no warm-up, as training starts from trained weights.</summary>
    private static double LearningRate(double peak, long step, long totalSteps)
    {
        const double floor = 0.01;
        double progress = totalSteps <= 1 ? 1 : (double)step / (totalSteps - 1);
        return peak * (floor + (1 - floor) * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }

    internal static void Load(TransformerNetwork network, TransformerWeights weights)
    {
        var tensors = weights.ToTensors();
        foreach (var parameter in network.Parameters.All)
        {
            var data = tensors[parameter.Name].Data;
            for (int i = 0; i < data.Length; i++) parameter.Value[i] = data[i];
        }
    }

    /// <summary>The network's parameters as float32 weights: what would be written, and what the simulator quantizes.</summary>
    internal static TransformerWeights Snapshot(TransformerNetwork network, ModelConfig config) =>
        TransformerWeights.FromTensors(config, network.Parameters.ToTensors(), config.WeightsPath);

    internal static void UseQuantizedWeights(TransformerNetwork network, IntegerTransformer model)
    {
        foreach (var linear in network.Linears)
        {
            var layer = (LinearLayer)model.Layers.First(l => l.Name == linear.LayerName);
            double scale = layer.WeightScale.Scale;
            for (int i = 0; i < layer.Weights.Length; i++) linear.ForwardWeight[i] = layer.Weights[i] * scale;
        }
    }
}
