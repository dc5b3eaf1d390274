using System.Globalization;
using TransformerFpga.Hdl;
using TransformerFpga.Integer;
using TransformerFpga.Model;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Bench;

/// <summary>
/// `engine [LANES,…] [--bits 4,6,8]`: the sample and the family (d_model 8–64) at uniform bits (8 by default), one datapath per layer (Layers, 1 lane)
/// beside the shared MAC engine at each lane count: whether the estimate fits, LUT, DSP, RAMB18 and cycles per inference.
/// `engine write FOLDER LANES [model.json]` writes an Engine design for synthesis.
/// </summary>
internal static class EngineBenchmark
{
    public static int Run(string[] args)
    {
        if (args.Length >= 4 && args[1] == "write") return Write(args[2], int.Parse(args[3], CultureInfo.InvariantCulture), args.Length > 4 ? args[4] : null);
        var laneCounts = (args.Length > 1 && !args[1].StartsWith("--", StringComparison.Ordinal) ? args[1] : "4,8,16").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        int at = Array.IndexOf(args, "--bits");
        var bitsList = (at >= 0 && at + 1 < args.Length ? args[at + 1] : "8").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        string samples = Path.Combine("samples", "SeattleTemperature");
        var models = new List<(string Name, string Path)> { ("sample", Path.Combine(samples, "model", "forecaster.json")) };
        foreach (int d in new[] { 8, 16, 24, 32, 40, 48, 56, 64 })
            models.Add(($"family d{d}", Path.Combine(samples, "family", "d" + d.ToString(CultureInfo.InvariantCulture), "forecaster.json")));
        Console.WriteLine("Uniform bits, buffers and multipliers Auto (the build's Auto rule), estimated against the XC7S15 at 100 MHz:");
        Console.WriteLine("fits (yes/no), LUT % of the part, DSP, RAMB18, cycles per inference; \"–\" where the lanes do not divide the model.");
        Console.WriteLine();
        Console.WriteLine($"| model | bits | Layers (1 lane) | {string.Join(" | ", laneCounts.Select(l => $"Engine {l} lanes"))} |");
        Console.WriteLine($"|---|---:|---|{string.Concat(laneCounts.Select(_ => "---|"))}");
        var device = Hardware.Device.FromPart("xc7s15ftgb196-1", "bench");
        foreach (var (name, path) in models)
        {
            var config = ModelLoader.LoadConfig(path);
            var evaluation = new ModelEvaluation(config, TransformerWeights.Load(config));
            var estimator = new PlanEstimator(evaluation, config.Name, device, "xc7s15ftgb196-1", 100, 100, Hardware.ResourceCoefficients.Default);
            var names = IntegerTransformer.LayerNames(config);
            foreach (int bits in bitsList)
            {
                var plan = LayerPlan.From(names, _ => new LayerChoice(new LayerBits(bits, bits), BufferResource.Auto, 1, MultiplierMapping.Auto));
                string Cell(LayerPlan p)
                {
                    var e = Hardware.AutoMapping.ResolveEngineLanes(p, estimator.Estimate).Estimate;
                    var t = e.Total;
                    return string.Create(CultureInfo.InvariantCulture,
                        $"{(e.Fits ? "yes" : "no")}, {100.0 * t.Lut / device.Capacity.Lut:0} %, {t.Dsp} DSP, {t.Bram18} BRAM, {e.LatencyCycles:N0}");
                }
                var cells = laneCounts.Select(l => Engine.MacEngine.ValidLanes(config).Contains(l) ? Cell(plan.WithEngine(new EngineSettings(l))) : "–");
                Console.WriteLine($"| {name} | {bits} | {Cell(plan)} | {string.Join(" | ", cells)} |");
            }
        }
        return 0;
    }

    /// <summary>`engine write FOLDER LANES [model.json]`: the Engine design of a model (the sample by default) at uniform 8 bits, hdl/ and yosys/ under FOLDER, for synthesis.</summary>
    private static int Write(string folder, int lanes, string? modelPath)
    {
        var config = ModelLoader.LoadConfig(modelPath ?? Path.Combine("samples", "SeattleTemperature", "model", "forecaster.json"));
        var evaluation = new ModelEvaluation(config, TransformerWeights.Load(config));
        var model = evaluation.Quantize(_ => new LayerBits(8, 8));
        var names = model.Layers.Select(l => l.Name).ToList();
        var plan = LayerPlan.From(names, _ => new LayerChoice(new LayerBits(8, 8), BufferResource.Auto, 1, MultiplierMapping.Auto)).WithEngine(new EngineSettings(lanes));
        var outputs = new Reports.OutputWriter();
        var design = HdlGenerator.Generate(model, plan, config.Name, [], outputs);
        SynthesisScripts.Generate(design, "xc7s15ftgb196-1", 100, outputs);
        outputs.Commit(folder, "hdl", "yosys");
        Console.WriteLine($"{design.Top}: {HardwareModel.TotalCycles(model, plan):N0} cycles, written to {folder}");
        return 0;
    }
}
