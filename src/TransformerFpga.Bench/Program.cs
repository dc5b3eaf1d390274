using System.Diagnostics;
using System.Globalization;
using TransformerFpga.Integer;
using TransformerFpga.Model;

// Prints performance figures; nothing here is asserted. Usage:
//   dotnet run -c Release --project src/TransformerFpga.Bench [-- simulator]
string benchmark = args.Length > 0 ? args[0] : "simulator";
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
switch (benchmark)
{
    case "simulator":
        SimulatorThroughput();
        break;
    case "sensitivity":
        Sensitivity(args.Length > 1 ? args[1] : "samples/SeattleTemperature/model/forecaster.json");
        break;
    case "accuracy":
        Accuracy(args.Length > 1 ? args[1] : "samples/SeattleTemperature/model/forecaster.json");
        break;
    default:
        Console.Error.WriteLine($"unknown benchmark '{benchmark}'; known: simulator, accuracy [model.json]");
        return 2;
}
return 0;

// The reference model of the paper: d=16, window 24, 3 features, ffn 64, 1 head, 8 bit.
static void SimulatorThroughput()
{
    string folder = Path.Combine(Path.GetTempPath(), "tfpga-bench-" + Environment.ProcessId);
    try
    {
        var spec = new SyntheticModelSpec(Window: 24, InputFeatures: 3, DModel: 16, Heads: 1, FfnDim: 64, Rows: 2000, Name: "reference");
        var config = ModelLoader.LoadConfig(SyntheticModel.Write(folder, spec, seed: 1));
        var evaluation = new ModelEvaluation(config, TransformerWeights.Load(config));
        var model = evaluation.Quantize(_ => new LayerBits(8, 8));
        var windows = evaluation.Test.Inputs;
        var workspace = model.CreateWorkspace();
        long macs = MacsPerWindow(config);

        for (int i = 0; i < 2000; i++) model.Predict(windows[i % windows.Length], workspace); // warm-up (JIT tiers)
        var integer = Measure(() => model.Predict(windows[0], workspace), windows, w => model.Predict(w, workspace));
        var floating = Measure(() => evaluation.Float.Forward(windows[0]), windows, w => evaluation.Float.Forward(w));
        Console.WriteLine($"reference model: d=16, window 24, 3 features, ffn 64, 1 head, 8 bit; {macs:N0} MACs per window");
        Console.WriteLine($"integer simulator: {integer:N0} windows/s on one thread ({integer * macs / 1e6:N0} M MAC/s); target >= 5,000");
        Console.WriteLine($"float reference:   {floating:N0} windows/s on one thread");
        Console.WriteLine($"ratio integer/float (same run): {integer / floating:N2}");
    }
    finally
    {
        try { Directory.Delete(folder, true); } catch (IOException) { }
    }
}

// Test MSE of persistence, the float model and the integer model at uniform 4 to 16 bits.
static void Accuracy(string modelPath)
{
    var config = ModelLoader.LoadConfig(modelPath);
    var evaluation = new ModelEvaluation(config, TransformerWeights.Load(config));
    var eight = evaluation.Evaluate(evaluation.Quantize(_ => new LayerBits(8, 8)));
    Console.WriteLine($"{config.Name}: {eight.Targets.Length} test windows, MSE in target units squared");
    if (eight.PersistenceVsTarget is { } persistence) Console.WriteLine($"persistence      {persistence.Mse,10:G4}");
    Console.WriteLine($"float            {eight.FloatVsTarget.Mse,10:G4}");
    foreach (int bits in new[] { 4, 6, 8, 10, 12, 16 })
    {
        var r = evaluation.Evaluate(evaluation.Quantize(_ => new LayerBits(bits, bits)));
        Console.WriteLine($"integer {bits,2} bit   {r.IntegerVsTarget.Mse,10:G4}  ({(r.IntegerVsTarget.Mse / r.FloatVsTarget.Mse - 1) * 100,6:+0.0;-0.0} % vs float; integer-vs-float MSE {r.IntegerVsFloat.Mse:G3})");
    }
}

// Test MSE with one layer at 8 (or 4) bits and every other layer at 16: where the error comes from.
static void Sensitivity(string modelPath)
{
    var config = ModelLoader.LoadConfig(modelPath);
    var evaluation = new ModelEvaluation(config, TransformerWeights.Load(config));
    foreach (var (label, plan) in new (string, Func<string, LayerBits>)[]
    {
        ("all 8", _ => new LayerBits(8, 8)),
        ("8, head out 16", n => n == "head" ? new LayerBits(8, 16) : new LayerBits(8, 8)),
        ("8, head out 16, norm w 16", n => n == "head" ? new LayerBits(8, 16) : n.Contains("norm") ? new LayerBits(16, 8) : new LayerBits(8, 8)),
        ("8, head/pool out 16, norm w 16", n => n is "head" or "pool" ? new LayerBits(8, 16) : n.Contains("norm") ? new LayerBits(16, 8) : new LayerBits(8, 8)),
        ("8, head out 16, norm w 16, softmax 16", n => n == "head" ? new LayerBits(8, 16) : n.Contains("norm") ? new LayerBits(16, 8) : n.Contains("softmax") ? new LayerBits(8, 16) : new LayerBits(8, 8)),
    })
        Console.WriteLine($"{label,-40} {evaluation.Evaluate(evaluation.Quantize(plan)).IntegerVsTarget.Mse:G4}");
    foreach (var layer in IntegerTransformer.LayerNames(config))
    {
        var w8 = evaluation.Evaluate(evaluation.Quantize(n => n == layer ? new LayerBits(8, 16) : new LayerBits(16, 16))).IntegerVsTarget.Mse;
        var a8 = evaluation.Evaluate(evaluation.Quantize(n => n == layer ? new LayerBits(16, 8) : new LayerBits(16, 16))).IntegerVsTarget.Mse;
        Console.WriteLine($"{layer,-24} weights 8 bit {w8,10:G4}   activations 8 bit {a8,10:G4}");
    }
}

static double Measure(Action warm, float[][] windows, Action<float[]> run)
{
    warm();
    var watch = Stopwatch.StartNew();
    long count = 0;
    while (watch.Elapsed.TotalSeconds < 2)
        for (int i = 0; i < 200; i++, count++) run(windows[count % windows.Length]);
    return count / watch.Elapsed.TotalSeconds;
}

static long MacsPerWindow(ModelConfig c)
{
    long w = c.Window, d = c.DModel;
    long perLayer = 4 * w * d * d + 2 * w * w * d + 2 * w * d * c.FfnDim;
    return w * c.InputFeatures * d + c.EncoderLayers * perLayer + d * c.OutputFeatures;
}
