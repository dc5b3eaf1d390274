using System.Diagnostics;
using System.Globalization;
using TransformerFpga.FineTuning;
using TransformerFpga.Integer;
using TransformerFpga.Model;

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
        for (int i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--bits": bitsList = args[++i].Split(',').Select(b => int.Parse(b, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--epochs": options = options with { Epochs = int.Parse(args[++i], CultureInfo.InvariantCulture) }; break;
                case "--lr": options = options with { LearningRate = double.Parse(args[++i], CultureInfo.InvariantCulture) }; break;
                default: modelPath = args[i]; break;
            }
        }
        var config = ModelLoader.LoadConfig(modelPath);
        var source = new ModelEvaluation(config, TransformerWeights.Load(config));
        double floatMse = source.Evaluate(source.Quantize(_ => new LayerBits(8, 8))).FloatVsTarget.Mse;
        Console.WriteLine($"{config.Name}: {source.Test.Count} test windows; fine-tuning {options.Epochs} epochs, lr {options.LearningRate}, " +
            $"validation {options.ValidationPercent} % of the calibration file; MSE in target units squared");
        Console.WriteLine($"float {floatMse:G4}");
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
            double step = source.Ranges["head"] / ((1 << (bits - 1)) - 1) * config.Data.TargetStd[0];
            Console.WriteLine($"     output rounding alone at {bits} bits: step {step:G3}, (step)²/12 = {step * step / 12:G3} ({step * step / 12 / floatMse:F2}× float)");
            Console.WriteLine($"{bits,4} | {ptq,10:G4} ({ptq / floatMse,6:F2}×) | {after,10:G4} ({after / floatMse,6:F2}×) | {result.ValidationMseBefore:G4} → {result.ValidationMseAfter:G4} | {result.BestEpoch,3} | {seconds:F1} s");
        }
        return 0;
    }
}
