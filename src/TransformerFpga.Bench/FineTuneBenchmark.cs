using System.Diagnostics;
using System.Globalization;
using TransformerFpga.FineTuning;
using TransformerFpga.Integer;
using TransformerFpga.Float;
using TransformerFpga.Model;
using TransformerFpga.Training;

namespace TransformerFpga.Bench;

/// <summary>
/// Test MSE of the float model, post-training quantization and quantization-aware fine-tuning (the FpgaFineTune
/// defaults unless given) at uniform bits (weights and activations of every layer), and the fine-tuning time.
/// </summary>
public static class FineTuneBenchmark
{
    public static int Run(string[] args)
    {
        string modelPath = "samples/SeattleTemperature/model/forecaster.json";
        int[] bitsList = [4, 6, 8];
        var options = new FineTuneOptions();
        bool floatControl = false, ptqOnly = false;
        for (int i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--bits": bitsList = args[++i].Split(',').Select(b => int.Parse(b, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--epochs": options = options with { Epochs = int.Parse(args[++i], CultureInfo.InvariantCulture) }; break;
                case "--lr": options = options with { LearningRate = double.Parse(args[++i], CultureInfo.InvariantCulture) }; break;
                case "--float-control": floatControl = true; break;
                case "--ptq-only": ptqOnly = true; break;
                default: modelPath = args[i]; break;
            }
        }
        var config = ModelLoader.LoadConfig(modelPath);
        var source = new ModelEvaluation(config, TransformerWeights.Load(config));
        double floatMse = source.Evaluate(source.Quantize(_ => new LayerBits(8, 8))).FloatVsTarget.Mse;
        Console.WriteLine($"{config.Name}: {source.Test.Count} test windows; fine-tuning {options.Epochs} epochs, lr {options.LearningRate}, " +
            $"validation {options.ValidationPercent} % of the calibration file; MSE in target units squared");
        Console.WriteLine($"float {floatMse:G4}");
        if (ptqOnly)
        {
            // Post-training quantization alone: no fine-tuning, seconds per model.
            Console.WriteLine("bits | PTQ test MSE (× float) | integer vs float MSE | output rounding alone");
            foreach (int bits in bitsList)
            {
                var model = source.Quantize(_ => new LayerBits(bits, bits));
                var r = source.Evaluate(model);
                double ptq = r.IntegerVsTarget.Mse;
                double step = model.OutputLayer.Output.Scale * config.Data.TargetStd[0];
                Console.WriteLine($"{bits,4} | {ptq,10:G4} ({ptq / floatMse,6:F2}×) | {r.IntegerVsFloat.Mse,10:G4} | {step * step / 12 / floatMse:F2}× float");
            }
            return 0;
        }
        Console.WriteLine("bits | PTQ test MSE (× float) | fine-tuned test MSE (× float) | validation MSE before → after | best epoch | time");
        foreach (int bits in bitsList)
        {
            LayerBits Uniform(string _) => new(bits, bits);
            double ptq = source.Evaluate(source.Quantize(Uniform)).IntegerVsTarget.Mse;
            var clock = Stopwatch.StartNew();
            var result = QuantizationAwareTraining.Run(source, Uniform, options, e =>
                Console.WriteLine($"  {bits} bit epoch {e.Epoch,3}/{e.Epochs}: train {e.TrainingMse:G4}, validation {e.ValidationMse:G4} (best {e.BestValidationMse:G4} at {e.BestEpoch})  {clock.Elapsed.TotalSeconds,6:F1} s"));
            double seconds = clock.Elapsed.TotalSeconds;
            var tuned = new ModelEvaluation(config, result.Weights);
            double after = tuned.Evaluate(tuned.Quantize(Uniform)).IntegerVsTarget.Mse;
            // The output's own rounding, (step)²/12 in target units, is an error no weights can remove.
            double step = source.Quantize(Uniform).OutputLayer.Output.Scale * config.Data.TargetStd[0];
            Console.WriteLine($"     output rounding alone at {bits} bits: step {step:G3}, (step)²/12 = {step * step / 12:G3} ({step * step / 12 / floatMse:F2}× float)");
            Console.WriteLine($"{bits,4} | {ptq,10:G4} ({ptq / floatMse,6:F2}×) | {after,10:G4} ({after / floatMse,6:F2}×) | {result.ValidationMseBefore:G4} → {result.ValidationMseAfter:G4} | {result.BestEpoch,3} | {seconds:F1} s");
            Console.WriteLine($"     float model of the fine-tuned weights: test MSE {tuned.Evaluate(tuned.Quantize(Uniform)).FloatVsTarget.Mse:G4}");
            if (floatControl)
            {
                var (control, epoch) = FloatFineTuning(source, Uniform, options);
                var controlled = new ModelEvaluation(config, control);
                var r = controlled.Evaluate(controlled.Quantize(Uniform));
                Console.WriteLine($"     control, float fine-tuning (same data, schedule and choice of epoch), then PTQ: test MSE {r.IntegerVsTarget.Mse:G4} ({r.IntegerVsTarget.Mse / floatMse:F2}×), its float {r.FloatVsTarget.Mse:G4}, best epoch {epoch}");
            }
        }
        return 0;
    }

    /// <summary>
    /// The control: the same training windows, optimizer, schedule and choice of epoch (least integer-simulator
    /// validation MSE), but a float forward and backward, so only the quantization awareness differs.
    /// </summary>
    private static (TransformerWeights Weights, int Epoch) FloatFineTuning(ModelEvaluation source, Func<string, LayerBits> bits, FineTuneOptions options)
    {
        var config = source.Config;
        var data = FineTuningData.Load(config, options.ValidationPercent);
        var network = new TransformerNetwork(new NetworkShape(config.Window, config.InputFeatures, config.OutputFeatures, config.DModel, config.Heads, config.FfnDim, config.EncoderLayers, config.Norm));
        var tensors = source.Weights.ToTensors();
        foreach (var parameter in network.Parameters.All)
            for (int i = 0; i < parameter.Value.Length; i++) parameter.Value[i] = tensors[parameter.Name].Data[i];
        TransformerWeights Snapshot() => TransformerWeights.FromTensors(config, network.Parameters.ToTensors(), config.WeightsPath);
        double Validation(TransformerWeights w) => QuantizationAwareTraining.ValidationMse(
            IntegerTransformer.Quantize(config, w, IntegerTransformer.Calibrate(new FloatTransformer(config, w), source.CalibrationWindows), bits), data, config);
        var best = (Weights: source.Weights, Epoch: 0, Mse: Validation(source.Weights));
        var optimizer = new AdamOptimizer(network.Parameters, 0);
        var random = new DeterministicRandom(options.Seed);
        var order = Enumerable.Range(0, data.TrainingInputs.Length).ToArray();
        long total = (order.Length + options.BatchSize - 1) / options.BatchSize * (long)options.Epochs, step = 0;
        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            random.Shuffle(order);
            for (int start = 0; start < order.Length; start += options.BatchSize)
            {
                int count = Math.Min(options.BatchSize, order.Length - start);
                network.Parameters.ClearGradients();
                for (int b = 0; b < count; b++)
                {
                    int index = order[start + b];
                    var y = network.Forward(data.TrainingInputs[index]);
                    network.Backward(y.Select((v, o) => 2 * (v - data.TrainingTargets[index][o]) / (count * y.Length)).ToArray());
                }
                double progress = total <= 1 ? 1 : (double)step++ / (total - 1);
                optimizer.Step(options.LearningRate * (0.01 + 0.99 * 0.5 * (1 + Math.Cos(Math.PI * progress))));
            }
            var candidate = Snapshot();
            double mse = Validation(candidate);
            if (mse < best.Mse) best = (candidate, epoch, mse);
        }
        return (best.Weights, best.Epoch);
    }
}
