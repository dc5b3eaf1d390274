using TransformerFpga.Integer;
using TransformerFpga.Layers.Linear;
using TransformerFpga.Model;

namespace TransformerFpga.Tests;

[TestClass]
public sealed class BiasCorrectionTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>
    /// The build's quantization moves every linear layer's mean output on the calibration windows to the float model's:
    /// against the same quantization without the correction, the mean |difference| per channel shrinks in every layer
    /// but the ReLU-fused fc1 (whose bias move reaches only its active outputs) and stays within half an output step
    /// at the model's output. The means here are computed by the test, from the float model's layer outputs and the
    /// integer layers' own outputs as each layer leaves them.
    /// </summary>
    [TestMethod]
    public void LinearLayersKeepTheFloatModelsMeanOutput()
    {
        using var folder = new TestFolder();
        var config = ModelLoader.LoadConfig(SyntheticModel.Write(folder.Path, new SyntheticModelSpec(DModel: 16, Window: 12, InputFeatures: 3, FfnDim: 32, Rows: 300), seed: 4));
        var evaluation = new ModelEvaluation(config, TransformerWeights.Load(config));
        var windows = evaluation.CalibrationWindows;
        LayerBits Bits(string _) => new(6, 6);

        var floatSums = new Dictionary<string, double[]>();
        foreach (var x in windows)
            evaluation.Float.Forward(x, (layer, values) =>
            {
                if (!IntegerTransformer.HasWeights(layer)) return;
                int rows = layer == "head" ? 1 : config.Window;
                if (!floatSums.TryGetValue(layer, out var sum)) floatSums[layer] = sum = new double[values.Length / rows];
                for (int i = 0; i < values.Length; i++) sum[i % sum.Length] += values[i] / (windows.Length * rows);
            });

        Dictionary<string, double> MeanDifference(IntegerTransformer model)
        {
            var linear = model.Layers.OfType<LinearLayer>().ToList();
            var sums = linear.ToDictionary(l => l.Name, l => new double[l.Out]);
            var workspace = model.CreateWorkspace();
            foreach (var x in windows)
            {
                model.QuantizeInput(x, workspace.Input);
                foreach (var layer in model.Layers)
                {
                    layer.Simulate(workspace);
                    if (layer is not LinearLayer l) continue;
                    var y = workspace.Of(l);
                    for (int i = 0; i < l.Rows * l.Out; i++) sums[l.Name][i % l.Out] += l.Output.Dequantize(y[i]) / (windows.Length * l.Rows);
                }
            }
            return linear.ToDictionary(l => l.Name, l => sums[l.Name].Select((m, o) => Math.Abs(m - floatSums[l.Name][o])).Average());
        }

        var before = MeanDifference(IntegerTransformer.Quantize(config, evaluation.Weights, evaluation.Ranges, Bits));
        var corrected = evaluation.Quantize(Bits);
        var after = MeanDifference(corrected);
        foreach (var layer in before.Keys)
            TestContext.WriteLine($"{layer}: mean |difference| {before[layer]:G3} → {after[layer]:G3}");
        foreach (var layer in before.Keys.Where(l => !l.EndsWith(".ffn.fc1", StringComparison.Ordinal)))
            Assert.IsTrue(after[layer] < before[layer], $"{layer}: {before[layer]:G3} → {after[layer]:G3}");
        Assert.IsTrue(after["head"] <= corrected.OutputLayer.Output.Scale / 2, $"head: {after["head"]:G3} against a step of {corrected.OutputLayer.Output.Scale:G3}");
        Assert.IsTrue(after.Values.Sum() < before.Values.Sum() / 2, $"in all: {before.Values.Sum():G3} → {after.Values.Sum():G3}");
    }
}
