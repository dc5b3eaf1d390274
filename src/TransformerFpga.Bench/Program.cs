using System.Diagnostics;
using System.Globalization;
using TransformerFpga.Hdl;
using TransformerFpga.Integer;
using TransformerFpga.Pipeline;
using TransformerFpga.Model;

// Prints performance figures; nothing here is asserted. Usage:
//   dotnet run -c Release --project src/TransformerFpga.Bench [-- simulator|accuracy|sensitivity|cycles|resources …|paper …|timing …|finetune …|engine [LANES,…] | engine write FOLDER LANES | engine units FOLDER]
string benchmark = args.Length > 0 ? args[0] : "simulator";
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
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
    case "cycles":
        Cycles();
        break;
    case "resources" when args.Length >= 5:
        return TransformerFpga.Bench.ResourceBenchmark.Run(args);
    case "timing":
        return TransformerFpga.Bench.TimingBenchmark.Run(args);
    case "paper":
        return TransformerFpga.Bench.PaperBenchmark.Run(args);
    case "finetune":
        return TransformerFpga.Bench.FineTuneBenchmark.Run(args);
    case "engine":
        return TransformerFpga.Bench.EngineBenchmark.Run(args);
    default:
        Console.Error.WriteLine($"unknown benchmark '{benchmark}'; known: simulator, accuracy [model.json], sensitivity [model.json], cycles, resources fit|table|modules FOLDER FIRST-SEED[,FIRST-SEED…] COUNT [OUT.json], {TransformerFpga.Bench.PaperBenchmark.Usage}, timing [SEED… | sample], {TransformerFpga.Bench.FineTuneBenchmark.Usage}, engine [LANES,…] [--bits 4,6,8] | engine write FOLDER LANES [model.json] | engine units FOLDER | engine targets");
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

// Latency of the generated hardware for the reference model (HardwareModel, equal to GHDL's count) at
// several lane settings, and the multipliers the MAC layers use (the XC7S15 has 20 DSP48E1).
static void Cycles()
{
    string folder = Path.Combine(Path.GetTempPath(), "tfpga-bench-" + Environment.ProcessId);
    try
    {
        var spec = new SyntheticModelSpec(Window: 24, InputFeatures: 3, DModel: 16, Heads: 1, FfnDim: 64, Rows: 200, Name: "reference");
        var config = ModelLoader.LoadConfig(SyntheticModel.Write(folder, spec, seed: 1));
        var evaluation = new ModelEvaluation(config, TransformerWeights.Load(config));
        var model = evaluation.Quantize(_ => new LayerBits(8, 8));
        var names = model.Layers.Select(l => l.Name).ToList();
        long macs = MacsPerWindow(config);
        Console.WriteLine($"reference model: d=16, window 24, 3 features, ffn 64, 1 head, 8 bit; {macs:N0} MACs per window");
        Console.WriteLine($"device bound with 20 DSPs: {macs / 20:N0} cycles; target <= 14,000 cycles");
        Console.WriteLine("lanes (default, per MAC layer: largest divisor <= it) | cycles | us at 100 MHz | MAC-layer multipliers (lanes + 1 requantizer each) | other multipliers");
        foreach (int lanes in new[] { 1, 2, 4, 8, 16 })
        {
            var plan = LayerPlan.From(names, _ => new LayerChoice(new LayerBits(8, 8), BufferResource.Auto, lanes, MultiplierMapping.Auto));
            long cycles = HardwareModel.TotalCycles(model, plan);
            var hardware = model.Layers.Where(HardwareModel.HasHardware).ToList();
            int mac = hardware.Where(HardwareModel.HasLanes).Sum(l => HardwareModel.Multipliers(l, HardwareModel.Lanes(l, plan[l.Name])));
            int other = hardware.Where(l => !HardwareModel.HasLanes(l)).Sum(l => HardwareModel.Multipliers(l, 1));
            Console.WriteLine($"{lanes,5} | {cycles,7:N0} | {cycles / 100.0,8:N1} | {mac,4} | {other,3}");
        }
        var best = LayerPlan.From(names, _ => new LayerChoice(new LayerBits(8, 8), BufferResource.Auto, 16, MultiplierMapping.Auto));
        Console.WriteLine("per layer at lanes 16: name, lanes, cycles (incl. 2 hand-off)");
        foreach (var layer in model.Layers.Where(HardwareModel.HasHardware))
            Console.WriteLine($"  {layer.Name,-22} {HardwareModel.Lanes(layer, best[layer.Name]),3} {HardwareModel.Cycles(layer, best[layer.Name]),7:N0}");
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
        Console.WriteLine($"integer {bits,2} bit   {r.IntegerVsTarget.Mse,10:G4}  ({(r.IntegerVsTarget.Mse / r.FloatVsTarget.Mse - 1) * 100,6:+0.0;-0.0;0.0} % vs float; integer-vs-float MSE {r.IntegerVsFloat.Mse:G3})");
    }
}

// Test MSE with one layer at 8 (or 4) bits and every other layer at 16: where the error comes from.
static void Sensitivity(string modelPath)
{
    var config = ModelLoader.LoadConfig(modelPath);
    var evaluation = new ModelEvaluation(config, TransformerWeights.Load(config));
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
