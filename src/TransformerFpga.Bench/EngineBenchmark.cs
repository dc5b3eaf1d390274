using System.Globalization;
using System.Text.RegularExpressions;
using TransformerFpga.Hardware;
using TransformerFpga.Hdl;
using TransformerFpga.Integer;
using TransformerFpga.Model;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Bench;

/// <summary>
/// `engine [LANES,…] [--bits 4,6,8]`: the sample and the family (d_model 8–64) at uniform bits (8 by default), one datapath per layer (Layers, 1 lane)
/// beside the shared MAC engine at each lane count: whether the estimate fits, LUT, DSP, RAMB18 and cycles per inference.
/// `engine write FOLDER LANES [model.json]` writes an Engine design for synthesis, as the build makes it (uniform 8 bits, the Auto rule).
/// `engine units FOLDER` splits that design's flattened synthesis among its units (<see cref="EngineUnits"/>).
/// `engine targets` prints the Engine designs of the target shapes (random weights: resources and cycles do not depend
/// on them): a layer-norm model (d_model 32, 2 heads, FFN 128, window 24, 3 inputs, 8 bits) and the predecessor paper's
/// three AirU designs (7 inputs, 1 head, batch norm, FFN 4·d), as the build makes them (the most lanes up to 16 that fit).
/// `engine targets --write DIR` also writes each design's hdl/ and yosys/ to DIR/&lt;name&gt; for synthesis.
/// </summary>
internal static class EngineBenchmark
{
    public static int Run(string[] args)
    {
        if (args.Length >= 4 && args[1] == "write") return Write(args[2], int.Parse(args[3], CultureInfo.InvariantCulture), args.Length > 4 ? args[4] : null);
        if (args.Length >= 2 && args[1] == "targets") return Targets(args.Length >= 4 && args[2] == "--write" ? args[3] : null);
        if (args.Length >= 3 && args[1] == "units") return Units(args[2]);
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
        foreach (var (name, path) in models)
        {
            var config = ModelLoader.LoadConfig(path);
            var evaluation = new ModelEvaluation(config, TransformerWeights.Load(config));
            var estimator = Estimator(evaluation);
            var names = IntegerTransformer.LayerNames(config);
            foreach (int bits in bitsList)
            {
                var plan = LayerPlan.From(names, _ => new LayerChoice(new LayerBits(bits, bits), BufferResource.Auto, 1, MultiplierMapping.Auto));
                string Cell(LayerPlan p)
                {
                    var e = Hardware.AutoMapping.ResolveEngineLanes(p, estimator.Estimate).Estimate;
                    var t = e.Total;
                    return string.Create(CultureInfo.InvariantCulture,
                        $"{(e.Fits ? "yes" : "no")}, {100.0 * t.Lut / Device.Capacity.Lut:0} %, {t.Dsp} DSP, {t.Bram18} BRAM, {e.LatencyCycles:N0}");
                }
                var cells = laneCounts.Select(l => Engine.MacEngine.ValidLanes(config).Contains(l) ? Cell(plan.WithEngine(new EngineSettings(l))) : "–");
                Console.WriteLine($"| {name} | {bits} | {Cell(plan)} | {string.Join(" | ", cells)} |");
            }
        }
        return 0;
    }

    private static int Targets(string? writeTo)
    {
        var targets = new (string Name, SyntheticModelSpec Spec, int Bits, long MaxCycles)[]
        {
            ("layer norm d32, 2 heads, FFN 128, W 24", new SyntheticModelSpec(Window: 24, InputFeatures: 3, DModel: 32, Heads: 2, FfnDim: 128, Norm: "layer", Rows: 200, Name: "ln32"), 8, 30_000),
            ("AirU W 6, d64, 8 bit", new SyntheticModelSpec(Window: 6, InputFeatures: 7, DModel: 64, Heads: 1, FfnDim: 256, Norm: "batch", Rows: 200, Name: "airu1"), 8, 56_000),
            ("AirU W 12, d64, 6 bit", new SyntheticModelSpec(Window: 12, InputFeatures: 7, DModel: 64, Heads: 1, FfnDim: 256, Norm: "batch", Rows: 200, Name: "airu2"), 6, 92_000),
            ("AirU W 12, d32, 4 bit", new SyntheticModelSpec(Window: 12, InputFeatures: 7, DModel: 32, Heads: 1, FfnDim: 128, Norm: "batch", Rows: 200, Name: "airu3"), 4, 26_000),
        };
        string folder = Path.Combine(Path.GetTempPath(), "tfpga-bench-targets-" + Environment.ProcessId);
        Console.WriteLine("Engine designs as the build makes them (uniform bits, Auto buffers and multipliers, the most lanes up to 16 that fit), XC7S15 at 100 MHz:");
        Console.WriteLine();
        Console.WriteLine("| target | lanes (multipliers) | fits | LUT | LUTRAM | FF | RAMB18 | DSP | worst path (ns) | cycles | target cycles |");
        Console.WriteLine("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        try
        {
            foreach (var (name, spec, bits, maxCycles) in targets)
            {
                var config = ModelLoader.LoadConfig(SyntheticModel.Write(Path.Combine(folder, spec.Name), spec, seed: 1));
                var evaluation = new ModelEvaluation(config, TransformerWeights.Load(config));
                var estimator = Estimator(evaluation);
                var names = IntegerTransformer.LayerNames(config);
                var plan = LayerPlan.From(names, _ => new LayerChoice(new LayerBits(bits, bits), BufferResource.Auto, 1, MultiplierMapping.Auto));
                // the build's rule: from the most valid lanes up to 16, halved until the design fits
                int most = Engine.MacEngine.ValidLanes(config).Where(l => l <= Engine.MacEngine.DefaultMaxLanes).Max();
                var resolved = Hardware.AutoMapping.ResolveEngineLanes(plan.WithEngine(new EngineSettings(most, LanesExplicit: false)), estimator.Estimate);
                var e = resolved.Estimate;
                var t = e.Total;
                string multipliers = e.Layers.Single(l => l.Name == Hardware.ResourceModel.EngineRow).Multiplier ?? "";
                if (writeTo is not null) WriteDesign(evaluation.Quantize(resolved.Plan.Bits), resolved.Plan, config.Name, Path.Combine(writeTo, spec.Name));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {resolved.Plan.Engine!.Lanes} ({multipliers}) | {(e.Fits ? "yes" : "no")} | {t.Lut:N0} | {t.LutRam:N0} | {t.Ff:N0} | {t.Bram18} | {t.Dsp} | {e.Timing.Critical.Nanoseconds:0.00} | {e.LatencyCycles:N0} | ≤ {maxCycles:N0} |"));
            }
        }
        finally
        {
            try { Directory.Delete(folder, true); } catch (IOException) { }
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
        var auto = LayerPlan.From(names, _ => new LayerChoice(new LayerBits(8, 8), BufferResource.Auto, 1, MultiplierMapping.Auto)).WithEngine(new EngineSettings(lanes));
        // as the build makes it: the Auto rule decides buffers, multipliers and the weights' memory
        var plan = Hardware.AutoMapping.ResolveEngineLanes(auto, Estimator(evaluation).Estimate).Plan;
        var design = WriteDesign(model, plan, config.Name, folder);
        Console.WriteLine($"{design.Top}: {HardwareModel.TotalCycles(model, plan):N0} cycles, written to {folder}");
        return 0;
    }

    private const string Part = "xc7s15ftgb196-1";
    private static readonly Hardware.Device Device = Hardware.Device.FromPart(Part, "bench");

    /// <summary>The build's estimate of a model's designs on the XC7S15 at 100 MHz, with the shipped coefficients.</summary>
    private static PlanEstimator Estimator(ModelEvaluation evaluation) =>
        new(evaluation, evaluation.Config.Name, Device, Part, 100, 100, Hardware.ResourceCoefficients.Default);

    /// <summary>Writes a design's hdl/ and yosys/ under <paramref name="folder"/>, for synthesis.</summary>
    private static HdlGenerator.Design WriteDesign(IntegerTransformer model, LayerPlan plan, string name, string folder)
    {
        var outputs = new Reports.OutputWriter();
        var design = HdlGenerator.Generate(model, plan, name, [], outputs);
        SynthesisScripts.Generate(design, Part, 100, outputs);
        outputs.Commit(folder, "hdl", "yosys");
        return design;
    }

    /// <summary>
    /// `engine units FOLDER`: the resources of each unit of the Engine design in FOLDER (from `engine write`) in its
    /// flattened synthesis, which this runs (flat/, as SynthesisCheck.RunFlattened) unless flat/netlist.json is newer
    /// than the HDL. LUT counts logic and LUT RAM, as the resource model does.
    /// </summary>
    private static int Units(string folder)
    {
        string top = Regex.Match(File.ReadAllText(Path.Combine(folder, "yosys", "synth.ys")), @"hierarchy -top (\w+)").Groups[1].Value;
        string netlist = Path.Combine(folder, SynthesisCheck.FlatFolder, "netlist.json");
        var hdlTime = Directory.GetFiles(Path.Combine(folder, "hdl")).Max(File.GetLastWriteTimeUtc);
        if (!File.Exists(netlist) || File.GetLastWriteTimeUtc(netlist) < hdlTime)
        {
            Console.Error.WriteLine($"synthesizing {folder} flattened (a minute or more)…");
            int code = SynthesisCheck.RunFlattened(folder, TimeSpan.FromMinutes(60), netlist: true);
            if (code != 0) { Console.Error.WriteLine($"yosys failed ({code}): see {folder}/flat/yosys.log"); return 1; }
        }
        var result = EngineUnits.Attribute(folder, top);
        var rows = EngineUnits.Units.Where(u => u != EngineUnits.Unattributed || result.Cells.ContainsKey(u))
            .Select(u => (Unit: u, R: YosysStatistics.ToResources(result.Cells.GetValueOrDefault(u) ?? []))).ToList();
        var total = rows.Aggregate(new Resources(), (sum, r) => sum + r.R);
        var logged = YosysStatistics.Parse(File.ReadAllText(Path.Combine(folder, SynthesisCheck.FlatFolder, "yosys.log")))[top];
        Console.WriteLine($"{top}: flattened Yosys synthesis (synth_xilinx -flatten), cells per unit:");
        Console.WriteLine();
        Console.WriteLine("| unit | LUT | LUTRAM | FF | RAMB18 | DSP48E1 |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (unit, r) in rows.Append(("**total**", total)))
            Console.WriteLine($"| {unit} | {r.Lut:N0} | {r.LutRam:N0} | {r.Ff:N0} | {r.Bram18} | {r.Dsp} |");
        Console.WriteLine();
        Console.WriteLine(total == logged ? "The total equals the netlist's stat in flat/yosys.log." : $"WARNING: the log's stat says {logged}.");
        // How the cells were located, per resource: the share located by their own src or driven net names is the
        // firm part; the neighbours' share follows the logic cone they feed.
        string Share(string resource, Func<string, bool> isType)
        {
            var how = result.HowByType.Where(kv => isType(kv.Key)).Aggregate(new int[4], (sum, kv) => sum.Zip(kv.Value, (a, b) => a + b).ToArray());
            double all = Math.Max(1, how.Sum());
            return string.Create(CultureInfo.InvariantCulture,
                $"{resource} {100 * how[0] / all:0} % by src, {100 * how[1] / all:0} % by net name, {100 * how[2] / all:0} % by neighbours, {100 * how[3] / all:0} % unattributed");
        }
        Console.WriteLine("Cells located: " + string.Join("; ", Share("LUT (logic)", t => t.StartsWith("LUT", StringComparison.Ordinal) || t == "INV"),
            Share("LUT RAM", t => t.StartsWith("RAM", StringComparison.Ordinal) && !t.StartsWith("RAMB", StringComparison.Ordinal) || t.StartsWith("SRL", StringComparison.Ordinal)),
            Share("FF", t => t.StartsWith("FD", StringComparison.Ordinal)), Share("DSP48E1", t => t == "DSP48E1"), Share("RAMB18", t => t.StartsWith("RAMB", StringComparison.Ordinal))) + ".");
        // Cross-check against FlatNetlist's instance attribution (by net names and ports only).
        var byInstance = FlatNetlist.CellsByInstance(netlist, Path.Combine(folder, "yosys", "work", top + ".v"), top);
        var engine = YosysStatistics.ToResources(byInstance.GetValueOrDefault(Hdl.HdlGenerator.EngineLabel) ?? []);
        var units = rows.Where(r => r.Unit is EngineUnits.Array or EngineUnits.Requantizer or EngineUnits.WriteBack or EngineUnits.Sequencer or EngineUnits.Roms)
            .Aggregate(new Resources(), (sum, r) => sum + r.R);
        Console.WriteLine($"Engine entity: its five units {units.Lut:N0} LUT, {units.LutRam:N0} LUTRAM, {units.Ff:N0} FF, {units.Dsp} DSP; FlatNetlist's {Hdl.HdlGenerator.EngineLabel}: {engine.Lut:N0} LUT, {engine.LutRam:N0} LUTRAM, {engine.Ff:N0} FF, {engine.Dsp} DSP.");
        return 0;
    }
}
