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
    default:
        Console.Error.WriteLine($"unknown benchmark '{benchmark}'; known: simulator");
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
