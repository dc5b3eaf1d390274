using TransformerFpga.Diagnostics;
using TransformerFpga.FineTuning;
using TransformerFpga.Integer;
using TransformerFpga.Model;
using TransformerFpga.Pipeline;
using TransformerFpga.Training;

namespace TransformerFpga.Tests;

[TestClass]
public sealed class FineTuningTests
{
    /// <summary>Small enough that a few epochs take seconds, long enough for a spread validation split.</summary>
    private static readonly SyntheticModelSpec Small = new(Window: 8, InputFeatures: 2, DModel: 8, FfnDim: 16, Rows: 700);

    private static (ModelConfig Config, TransformerWeights Weights) Synthetic(TestFolder folder, SyntheticModelSpec spec, int seed = 3)
    {
        var config = ModelLoader.LoadConfig(SyntheticModel.Write(folder.File("model"), spec, seed));
        return (config, TransformerWeights.Load(config));
    }

    private static TransformerNetwork Network(ModelConfig c, TransformerWeights weights)
    {
        var network = new TransformerNetwork(new NetworkShape(c.Window, c.InputFeatures, c.OutputFeatures, c.DModel, c.Heads, c.FfnDim, c.EncoderLayers, c.Norm));
        QuantizationAwareTraining.Load(network, weights);
        return network;
    }

    /// <summary>d(squared error)/d(parameters) by the straight-through backward of the integer model at <paramref name="bits"/>.</summary>
    private static Dictionary<string, double[]> StraightThroughGradient(ModelConfig config, TransformerWeights weights, IReadOnlyDictionary<string, double> ranges,
        LayerBits bits, float[] window, double[] target)
    {
        var network = Network(config, weights);
        foreach (var linear in network.Linears) linear.ForwardWeight = new double[linear.Weight.Value.Length];
        var model = IntegerTransformer.Quantize(config, weights, ranges, _ => bits);
        QuantizationAwareTraining.UseQuantizedWeights(network, model);
        var simulator = new SimulatedActivations(model);
        simulator.Run(window);
        network.Parameters.ClearGradients();
        var y = network.ForwardQuantized(simulator.Read);
        network.Backward(y.Select((v, o) => 2 * (v - target[o])).ToArray());
        return network.Parameters.All.Where(p => p.Trainable).ToDictionary(p => p.Name, p => p.Gradient.ToArray());
    }

    [TestMethod]
    public void StraightThroughGradientAtSixteenBitsMatchesFiniteDifferencesOfTheFloatModel()
    {
        using var folder = new TestFolder();
        var (config, weights) = Synthetic(folder, Small with { Heads = 2 });
        var evaluation = new ModelEvaluation(config, weights);
        var window = evaluation.ValidationInputs[5];
        double[] target = [0.3];
        var analytic = StraightThroughGradient(config, weights, evaluation.Ranges, new LayerBits(16, 16), window, target);

        // Central differences of the float model's loss: at 16 bits the integer model is the float model up to
        // rounding, so the straight-through gradient must be its gradient.
        var network = Network(config, weights);
        double Loss() => network.Forward(window).Select((v, o) => (v - target[o]) * (v - target[o])).Sum();
        double differenceSquares = 0, numericSquares = 0;
        const double step = 1e-5;
        foreach (var parameter in network.Parameters.All.Where(p => p.Trainable))
            for (int i = 0; i < parameter.Value.Length; i++)
            {
                double saved = parameter.Value[i];
                parameter.Value[i] = saved + step;
                double up = Loss();
                parameter.Value[i] = saved - step;
                double down = Loss();
                parameter.Value[i] = saved;
                double numeric = (up - down) / (2 * step);
                differenceSquares += Math.Pow(numeric - analytic[parameter.Name][i], 2);
                numericSquares += numeric * numeric;
            }
        double relative = Math.Sqrt(differenceSquares / numericSquares);
        Assert.IsTrue(numericSquares > 0);
        Assert.IsTrue(relative < 0.002, $"straight-through gradient differs from the float gradient by {relative:P2} (relative L2)");
    }

    [TestMethod]
    public void StraightThroughGradientIsZeroBehindASaturatedLayer()
    {
        using var folder = new TestFolder();
        var (config, weights) = Synthetic(folder, Small);
        var evaluation = new ModelEvaluation(config, weights);
        var window = evaluation.ValidationInputs[3];
        double[] target = [0.3];
        // A tiny calibrated range for ffn.fc2: every one of its outputs that is not exactly 0 saturates.
        var ranges = evaluation.Ranges.ToDictionary(r => r.Key, r => r.Value);
        ranges["encoder0.ffn.fc2"] = 1e-9;
        var gradient = StraightThroughGradient(config, weights, ranges, new LayerBits(8, 8), window, target);

        foreach (string blocked in new[] { "encoder.0.ffn.fc2.weight", "encoder.0.ffn.fc2.bias", "encoder.0.ffn.fc1.weight", "encoder.0.ffn.fc1.bias" })
            Assert.IsTrue(gradient[blocked].All(g => g == 0), blocked + " has a gradient through a saturated fc2");
        // The residual path around the feed-forward block still carries the gradient to the attention and the head.
        foreach (string open in new[] { "encoder.0.attn.v.weight", "embedding.weight", "head.weight" })
            Assert.IsTrue(gradient[open].Any(g => g != 0), open + " has no gradient");

        var unsaturated = StraightThroughGradient(config, weights, evaluation.Ranges, new LayerBits(8, 8), window, target);
        Assert.IsTrue(unsaturated["encoder.0.ffn.fc1.weight"].Any(g => g != 0), "fc1 has no gradient even without saturation");
    }

    [TestMethod]
    public void FineTuningLowersTheSimulatorsValidationMseAtFourBits()
    {
        using var folder = new TestFolder();
        var (config, weights) = Synthetic(folder, Small);
        var evaluation = new ModelEvaluation(config, weights);
        var result = QuantizationAwareTraining.Run(evaluation, _ => new LayerBits(4, 4), new FineTuneOptions { Epochs = 6, LearningRate = 1e-3 });

        Assert.IsTrue(result.BestEpoch > 0, "no epoch beat the source weights");
        Assert.IsTrue(result.ValidationMseAfter < 0.8 * result.ValidationMseBefore,
            $"validation MSE {result.ValidationMseBefore:G4} → {result.ValidationMseAfter:G4}");
        // The figure is the build's: the tuned weights calibrated and quantized again by post-training quantization.
        var data = FineTuningData.Load(config, FineTuneOptions.DefaultValidationPercent);
        var tuned = new ModelEvaluation(config, result.Weights);
        Assert.AreEqual(result.ValidationMseAfter, QuantizationAwareTraining.ValidationMse(tuned.Quantize(_ => new LayerBits(4, 4)), data, config));
    }

    [TestMethod]
    public void ValidationWindowsShareNoRowWithTrainingWindows()
    {
        using var folder = new TestFolder();
        var (config, _) = Synthetic(folder, Small);
        var data = FineTuningData.Load(config, 20);
        int all = 700 - config.Window;
        Assert.AreEqual(all / 5, data.ValidationInputs.Length, 4);
        // The 4 validation blocks lie inside the file, so each removes the windows that would share a row with it on
        // both sides: the window length before and after it.
        Assert.AreEqual(all - data.ValidationInputs.Length - 4 * 2 * config.Window, data.TrainingInputs.Length);
        Assert.ThrowsExactly<FpgaException>(() => FineTuningData.Load(ModelLoader.LoadConfig(
            SyntheticModel.Write(folder.File("short"), Small with { Rows = 40 }, seed: 1)), 20));
    }

    private static FineTuneRequest Request(string project, string defaultWeightBits = "4", string epochs = "3") =>
        new(new BuildRequest(project, ["model/synthetic.json"], [], [], [],
                new BuildSettings { OutputDir = Path.Combine(Path.GetDirectoryName(project)!, "out"), BudgetAsWarning = true, DefaultWeightBits = defaultWeightBits, DefaultActivationBits = "4" }),
            new FineTuneSettings { Epochs = epochs, LearningRate = "0.001" });

    private static string Project(TestFolder folder)
    {
        SyntheticModel.Write(folder.File("model"), Small, seed: 3);
        string project = folder.File("Hardware.csproj");
        File.WriteAllText(project, "<Project />");
        return project;
    }

    [TestMethod]
    public void SameInputsWriteTheSameBytes()
    {
        using var first = new TestFolder();
        using var second = new TestFolder();
        var runs = new[] { first, second }.Select(folder =>
        {
            string project = Project(folder);
            var outcome = FineTuneJob.Run(Request(project));
            Assert.IsTrue(outcome.Success, string.Join("; ", outcome.Diagnostics));
            return (Weights: File.ReadAllBytes(folder.File(FineTunedWeights.WeightsFileName)), Manifest: File.ReadAllBytes(folder.File(FineTunedWeights.ManifestFileName)));
        }).ToList();
        CollectionAssert.AreEqual(runs[0].Weights, runs[1].Weights);
        CollectionAssert.AreEqual(runs[0].Manifest, runs[1].Manifest);
    }

    [TestMethod]
    public void BuildUsesTunedWeightsForTheirPlanAndWarnsAndFallsBackWhenStale()
    {
        using var folder = new TestFolder();
        string project = Project(folder);
        var tune = FineTuneJob.Run(Request(project));
        Assert.IsTrue(tune.Success, string.Join("; ", tune.Diagnostics));
        var manifest = FineTuneManifest.Parse(File.ReadAllText(folder.File(FineTunedWeights.ManifestFileName)))!;
        Assert.IsTrue(manifest.TestMseAfter < manifest.TestMseBefore, $"test MSE {manifest.TestMseBefore} → {manifest.TestMseAfter}");

        BuildOutcome Build(string weightBits, List<string> log) =>
            FpgaBuild.Run(Request(project, weightBits).Build, log.Add);
        double IntegerMse() => System.Text.Json.JsonDocument.Parse(File.ReadAllText(folder.File("out/report/simulation.json")))
            .RootElement.GetProperty("integer_vs_target").GetProperty("mse").GetDouble();

        var log = new List<string>();
        var current = Build("4", log);
        Assert.IsTrue(current.Success, string.Join("; ", current.Diagnostics));
        Assert.IsFalse(current.Diagnostics.Any(d => d.Code == ErrorCodes.FineTunedWeightsStale));
        Assert.IsTrue(log.Any(m => m.Contains("using the fine-tuned weights", StringComparison.Ordinal)), string.Join("\n", log));
        Assert.AreEqual(manifest.TestMseAfter, IntegerMse(), 1e-12 * manifest.TestMseAfter);

        // Another plan: the tuned weights are stale; the build warns and uses the source weights.
        var stale = Build("6", log = []);
        Assert.IsTrue(stale.Success, string.Join("; ", stale.Diagnostics));
        var warning = stale.Diagnostics.Single(d => d.Code == ErrorCodes.FineTunedWeightsStale);
        Assert.AreEqual(Severity.Warning, warning.Severity);
        StringAssert.Contains(warning.Message, "another plan");
        StringAssert.Contains(warning.Message, "encoder0.attn.q W6/A4 (tuned for encoder0.attn.q W4/A4)");
        var config = ModelLoader.LoadConfig(folder.File("model/synthetic.json"));
        var source = new ModelEvaluation(config, TransformerWeights.Load(config));
        Assert.AreEqual(source.Evaluate(source.Quantize(_ => new LayerBits(6, 4))).IntegerVsTarget.Mse, IntegerMse());

        // Changed source weights: stale as well.
        var bytes = File.ReadAllBytes(config.WeightsPath);
        bytes[^1] ^= 1;
        File.WriteAllBytes(config.WeightsPath, bytes);
        var changed = Build("4", log = []);
        StringAssert.Contains(changed.Diagnostics.Single(d => d.Code == ErrorCodes.FineTunedWeightsStale).Message, "other source weights");
    }

    [TestMethod]
    public void CancellationLeavesThePreviousFilesUntouched()
    {
        using var folder = new TestFolder();
        string project = Project(folder);
        Assert.IsTrue(FineTuneJob.Run(Request(project, epochs: "1")).Success);
        string weights = folder.File(FineTunedWeights.WeightsFileName), manifest = folder.File(FineTunedWeights.ManifestFileName);
        var before = (File.ReadAllBytes(weights), File.ReadAllBytes(manifest), File.GetLastWriteTimeUtc(weights));

        using var cancel = new CancellationTokenSource();
        Assert.ThrowsExactly<OperationCanceledException>(() => FineTuneJob.Run(Request(project, epochs: "4"), message =>
        {
            if (message.Contains("epoch 1/", StringComparison.Ordinal)) cancel.Cancel();
        }, cancel.Token));
        CollectionAssert.AreEqual(before.Item1, File.ReadAllBytes(weights));
        CollectionAssert.AreEqual(before.Item2, File.ReadAllBytes(manifest));
        Assert.AreEqual(before.Item3, File.GetLastWriteTimeUtc(weights));
        CollectionAssert.AreEquivalent(new[] { FineTunedWeights.WeightsFileName, FineTunedWeights.ManifestFileName, "Hardware.csproj", "model" },
            Directory.EnumerateFileSystemEntries(folder.Path).Select(Path.GetFileName).ToList());
    }
}
