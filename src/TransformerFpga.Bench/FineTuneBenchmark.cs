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
/// defaults unless given) at uniform bits (weights and activations of every layer), and the fine-tuning time (including
/// the test simulation of the tuned weights), for one model or, with --family, for every d&lt;N&gt;/forecaster.json of a folder.
/// </summary>
public static class FineTuneBenchmark
{
    /// <summary>One model at one uniform width: test MSE of the float model, post-training quantization and the fine-tuned weights, and the fine-tuning's wall time.</summary>
    private sealed record Measured(string Model, int Bits, double FloatMse, double PtqMse, double FineTunedMse, int BestEpoch, double Seconds);

    public const string Usage = "finetune [--bits 4,6,8] [--epochs N] [--lr X] [--float-control] [--ptq-only] [model.json | --family DIR [--dmodels 8,16,…]]";

    public static int Run(string[] args)
    {
        string modelPath = "samples/SeattleTemperature/model/forecaster.json";
        string? family = null;
        int[]? dModels = null;
        int[] bitsList = [4, 6, 8];
        var options = new FineTuneOptions();
        bool floatControl = false, ptqOnly = false;
        for (int i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--bits": bitsList = Integers(args[++i]); break;
                case "--epochs": options = options with { Epochs = int.Parse(args[++i], CultureInfo.InvariantCulture) }; break;
                case "--lr": options = options with { LearningRate = double.Parse(args[++i], CultureInfo.InvariantCulture) }; break;
                case "--float-control": floatControl = true; break;
                case "--ptq-only": ptqOnly = true; break;
                case "--family": family = args[++i]; break;
                case "--dmodels": dModels = Integers(args[++i]); break;
                default:
                    if (args[i].StartsWith("--", StringComparison.Ordinal))
                    {
                        Console.Error.WriteLine($"unknown option '{args[i]}'; usage: {Usage}");
                        return 2;
                    }
                    modelPath = args[i];
                    break;
            }
        }
        if (family is null)
        {
            RunModel(modelPath, bitsList, options, floatControl, ptqOnly);
            return 0;
        }

        // Every family model d<N>/forecaster.json (or those of --dmodels), smallest first, then one table for all.
        var models = Directory.EnumerateDirectories(family, "d*")
            .Select(d => (Path: Path.Combine(d, "forecaster.json"), DModel: int.TryParse(Path.GetFileName(d)[1..], NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : -1))
            .Where(m => m.DModel > 0 && File.Exists(m.Path) && (dModels is null || dModels.Contains(m.DModel)))
            .OrderBy(m => m.DModel).ToList();
        if (models.Count == 0)
        {
            Console.Error.WriteLine($"no d<N>/forecaster.json under {family}{(dModels is null ? "" : " for --dmodels " + string.Join(",", dModels))}");
            return 2;
        }
        var rows = new List<Measured>();
        foreach (var (path, _) in models) rows.AddRange(RunModel(path, bitsList, options, floatControl, ptqOnly) ?? []);
        if (ptqOnly) return 0;
        Console.WriteLine();
        Console.WriteLine($"Test MSE (target units squared) of each model's float weights, post-training quantization and fine-tuning ({options.Epochs} epochs, lr {options.LearningRate}, uniform bits); × = multiple of the model's float MSE:");
        Console.WriteLine();
        Console.WriteLine("| model | float MSE | bits | post-training | fine-tuned | best epoch | fine-tuning time |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
            Console.WriteLine($"| {r.Model} | {r.FloatMse:G4} | {r.Bits} | {r.PtqMse:G4} ({r.PtqMse / r.FloatMse:0.00}×) | {r.FineTunedMse:G4} ({r.FineTunedMse / r.FloatMse:0.00}×) | {r.BestEpoch} | {r.Seconds:F0} s |");
        return 0;
    }

    private static int[] Integers(string list) => list.Split(',').Select(b => int.Parse(b, CultureInfo.InvariantCulture)).ToArray();

    /// <summary>Prints one model's figures as it goes; returns the fine-tuned rows (null with --ptq-only).</summary>
    private static List<Measured>? RunModel(string modelPath, int[] bitsList, FineTuneOptions options, bool floatControl, bool ptqOnly)
    {
        var config = ModelLoader.LoadConfig(modelPath);
        var source = new ModelEvaluation(config, TransformerWeights.Load(config));
        double floatMse = source.Evaluate(source.Quantize(_ => new LayerBits(8, 8))).FloatVsTarget.Mse;
        string model = Path.GetRelativePath(Directory.GetCurrentDirectory(), modelPath).Replace('\\', '/');
        Console.WriteLine($"{model} ({config.Name}, d_model {config.DModel}): {source.Test.Count} test windows; fine-tuning {options.Epochs} epochs, lr {options.LearningRate}, " +
            $"validation {options.ValidationPercent} % of the calibration file; MSE in target units squared");
        Console.WriteLine($"float {floatMse:G4}");
        if (ptqOnly)
        {
            // Post-training quantization alone: no fine-tuning, seconds per model.
            Console.WriteLine("bits | PTQ test MSE (× float) | integer vs float MSE | output rounding alone");
            foreach (int bits in bitsList)
            {
                var quantized = source.Quantize(_ => new LayerBits(bits, bits));
                var r = source.Evaluate(quantized);
                double ptq = r.IntegerVsTarget.Mse;
                double step = quantized.OutputLayer.Output.Scale * config.Data.TargetStd[0];
                Console.WriteLine($"{bits,4} | {ptq,10:G4} ({ptq / floatMse,6:F2}×) | {r.IntegerVsFloat.Mse,10:G4} | {step * step / 12 / floatMse:F2}× float");
            }
            return null;
        }
        var rows = new List<Measured>();
        Console.WriteLine("bits | PTQ test MSE (× float) | fine-tuned test MSE (× float) | validation MSE before → after | best epoch | time");
        foreach (int bits in bitsList)
        {
            LayerBits Uniform(string _) => new(bits, bits);
            double ptq = source.Evaluate(source.Quantize(Uniform)).IntegerVsTarget.Mse;
            var clock = Stopwatch.StartNew();
            // FpgaFineTune's own code: the fine-tuning and the test simulation of the tuned weights.
            var (result, test) = FineTuneJob.Tune(source, Uniform, options, e =>
                Console.WriteLine($"  {bits} bit epoch {e.Epoch,3}/{e.Epochs}: train {e.TrainingMse:G4}, validation {e.ValidationMse:G4} (best {e.BestValidationMse:G4} at {e.BestEpoch})  {clock.Elapsed.TotalSeconds,6:F1} s"));
            double seconds = clock.Elapsed.TotalSeconds;
            double after = test.IntegerVsTarget.Mse;
            // The output's own rounding, (step)²/12 in target units, is an error no weights can remove.
            double step = source.Quantize(Uniform).OutputLayer.Output.Scale * config.Data.TargetStd[0];
            Console.WriteLine($"     output rounding alone at {bits} bits: step {step:G3}, (step)²/12 = {step * step / 12:G3} ({step * step / 12 / floatMse:F2}× float)");
            Console.WriteLine($"{bits,4} | {ptq,10:G4} ({ptq / floatMse,6:F2}×) | {after,10:G4} ({after / floatMse,6:F2}×) | {result.ValidationMseBefore:G4} → {result.ValidationMseAfter:G4} | {result.BestEpoch,3} | {seconds:F1} s");
            Console.WriteLine($"     float model of the fine-tuned weights: test MSE {test.FloatVsTarget.Mse:G4}");
            rows.Add(new Measured(model, bits, floatMse, ptq, after, result.BestEpoch, seconds));
            if (floatControl)
            {
                var (control, epoch) = FloatFineTuning(source, Uniform, options);
                var controlled = new ModelEvaluation(config, control);
                var r = controlled.Evaluate(controlled.Quantize(Uniform));
                Console.WriteLine($"     control, float fine-tuning (same data, schedule and choice of epoch), then PTQ: test MSE {r.IntegerVsTarget.Mse:G4} ({r.IntegerVsTarget.Mse / floatMse:F2}×), its float {r.FloatVsTarget.Mse:G4}, best epoch {epoch}");
            }
        }
        return rows;
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
            source.Quantize(w, IntegerTransformer.Calibrate(new FloatTransformer(config, w), source.CalibrationWindows), bits), data, config);
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
