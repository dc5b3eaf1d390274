using System.Diagnostics;
using System.Globalization;
using TransformerFpga.Hdl;
using TransformerFpga.Integer;
using TransformerFpga.Layers.Linear;
using TransformerFpga.Model;
using TransformerFpga.Pipeline;
using TransformerFpga.Reports;

namespace TransformerFpga.Hardware;

/// <summary>
/// Holds the resource model against Yosys: generates seeded random designs (sizes, bits, lanes,
/// buffers and norm vary), synthesizes them with the generated yosys/synth.ys, per module and flattened, and
/// compares the estimate with the flattened design's cell counts. Used by the accuracy test, the fitting benchmark and
/// by anyone who wants to check the estimate on their machine.
/// </summary>
public static class SynthesisCheck
{
    public sealed record GeneratedDesign(string Name, string Folder, IntegerTransformer Model, LayerPlan Plan, HdlGenerator.Design Design);

    public sealed record Comparison(string Name, Resources Estimate, Resources Synthesis);

    /// <summary>
    /// Writes hdl/ and yosys/ of the design of <paramref name="seed"/> under <paramref name="folder"/>. The default
    /// space is d_model 8–32, one encoder layer, 1–2 heads and lanes in the linear layers; <paramref name="wide"/>
    /// draws d_model up to 64, two encoder layers, up to 4 heads and lanes in attention too (slower to synthesize).
    /// </summary>
    /// <param name="engine">Build the Engine architecture: lanes of the engine drawn among the powers of two that divide the model (DSP, a quarter LUT).</param>
    public static GeneratedDesign Generate(int seed, string folder, bool wide = false, bool engine = false)
    {
        var random = new Random(seed);
        int[] dModels = wide ? [8, 8, 16, 16, 24, 32, 32, 48, 64] : [8, 16, 24, 32];
        int d = dModels[random.Next(dModels.Length)];
        int heads = wide ? new[] { 1, 2, 4 }.Where(h => d % h == 0).ElementAt(random.Next(3)) : random.Next(3) == 0 ? 2 : 1;
        int encoderLayers = wide && d <= 32 && random.Next(3) == 0 ? 2 : 1;
        string name = "d" + seed.ToString(CultureInfo.InvariantCulture);
        int window = 8 + 4 * random.Next(5);
        var spec = new SyntheticModelSpec(Window: window, InputFeatures: 1 + random.Next(4), OutputFeatures: 1, DModel: d, Heads: heads,
            FfnDim: d * (2 + 2 * random.Next(2)), EncoderLayers: encoderLayers, Norm: random.Next(3) == 0 ? "layer" : "batch", Rows: window + 40, Name: name);
        var config = ModelLoader.LoadConfig(SyntheticModel.Write(Path.Combine(folder, "model"), spec, seed));
        var evaluation = new ModelEvaluation(config, TransformerWeights.Load(config));
        var names = IntegerTransformer.LayerNames(config);
        int uniform = 4 + 2 * random.Next(3);
        var bits = names.ToDictionary(n => n, _ => random.Next(2) == 0 ? new LayerBits(uniform, uniform) : new LayerBits(3 + random.Next(6), 3 + random.Next(6)));
        var buffers = names.ToDictionary(n => n, _ => random.Next(3) switch { 0 => BufferResource.Block, 1 => BufferResource.Distributed, _ => BufferResource.Auto });
        var multipliers = names.ToDictionary(n => n, _ => random.Next(4) == 0 ? MultiplierMapping.Lut : MultiplierMapping.Auto);
        var model = evaluation.Quantize(n => bits[n]);
        // Lanes in the linear layers and in attention (which banks the Q, K and V buffers).
        var lanes = names.ToDictionary(n => n, _ => 1);
        foreach (var layer in model.Layers.Where(l => wide ? HardwareModel.ParallelSize(l) > 1 : l is LinearLayer))
        {
            var divisors = HardwareModel.ValidLanes(layer).Where(x => x <= 8).ToArray();
            lanes[layer.Name] = divisors[random.Next(divisors.Length)];
        }
        var plan = LayerPlan.From(names, n => new LayerChoice(bits[n], buffers[n], lanes[n], multipliers[n]));
        if (engine)
        {
            // A second generator, so that the draws above stay those of the Layers design of the same seed.
            var engineRandom = new Random(seed * 13 + 7);
            var valid = new[] { 2, 4, 8, 16 }.Where(l => d % l == 0 && (d / heads) % l == 0 && window % l == 0 && spec.FfnDim % l == 0).ToArray();
            plan = plan.WithEngine(new EngineSettings(valid[engineRandom.Next(valid.Length)], engineRandom.Next(4) == 0));
        }
        var outputs = new OutputWriter();
        var design = HdlGenerator.Generate(model, plan, name, [], outputs);
        SynthesisScripts.Generate(design, "xc7s15ftgb196-1", 100, outputs);
        outputs.Commit(folder, "hdl", "yosys");
        return new GeneratedDesign(name, folder, model, plan, design);
    }

    /// <summary>Runs yosys/synth.ys in the design folder; returns the exit code (the log is yosys/yosys.log).</summary>
    public static int RunYosys(string folder, TimeSpan timeout) => RunYosys(folder, "yosys/synth.ys", "yosys/yosys.log", timeout);

    /// <summary>Runs a Yosys script of the design folder; returns the exit code, -1 after <paramref name="timeout"/>.</summary>
    public static int RunYosys(string folder, string script, string log, TimeSpan timeout)
    {
        var info = new ProcessStartInfo("yosys", $"-q -l {log} -s {script}")
        {
            WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start yosys");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit((int)timeout.TotalMilliseconds))
        {
            process.Kill(entireProcessTree: true);
            return -1;
        }
        output.Wait();
        error.Wait();
        return process.ExitCode;
    }

    /// <summary>The folder beside yosys/ (which regenerating a design replaces) for flattened synthesis.</summary>
    public const string FlatFolder = "flat";

    /// <summary>
    /// Runs the design's yosys/synth.ys flattened (synth_xilinx -flatten, with -abc9 when asked) into flat/: the log
    /// flat/yosys.log (or abc9.log) and, with <paramref name="netlist"/>, the mapped netlist flat/netlist.json.
    /// Returns Yosys' exit code, -1 after <paramref name="timeout"/>.
    /// </summary>
    public static int RunFlattened(string folder, TimeSpan timeout, bool abc9 = false, bool netlist = false)
    {
        Directory.CreateDirectory(Path.Combine(folder, FlatFolder));
        string name = abc9 ? "abc9" : "yosys";
        var lines = File.ReadAllLines(Path.Combine(folder, "yosys", "synth.ys"))
            .Select(l => l.StartsWith("synth_xilinx ", StringComparison.Ordinal) ? l.Replace("synth_xilinx ", abc9 ? "synth_xilinx -flatten -abc9 " : "synth_xilinx -flatten ", StringComparison.Ordinal) : l)
            .SelectMany(l => netlist && l.StartsWith("stat ", StringComparison.Ordinal) ? new[] { $"write_json {FlatFolder}/netlist.json", l } : [l]);
        File.WriteAllLines(Path.Combine(folder, FlatFolder, name + ".ys"), lines);
        return RunYosys(folder, $"{FlatFolder}/{name}.ys", $"{FlatFolder}/{name}.log", timeout);
    }

    /// <summary>The flattened design's totals from flat/yosys.log (or abc9.log); null when that run did not finish.</summary>
    public static Resources? Flattened(GeneratedDesign design, bool abc9 = false)
    {
        string log = Path.Combine(design.Folder, FlatFolder, (abc9 ? "abc9" : "yosys") + ".log");
        return File.Exists(log) && YosysStatistics.Parse(File.ReadAllText(log)).TryGetValue(design.Name, out var r) ? r : null;
    }

    /// <summary>The design's estimate against its flattened synthesis (flat/yosys.log).</summary>
    public static Comparison CompareFlattened(GeneratedDesign design, ResourceCoefficients coefficients)
    {
        var modules = ResourceModel.Modules(design.Design, file => File.ReadAllText(Path.Combine(design.Folder, "hdl", file)));
        var estimate = modules.Aggregate(new Resources(), (sum, m) => sum + ResourceModel.Estimate(m, design.Design, coefficients));
        var total = Flattened(design) ?? throw new InvalidOperationException(design.Name + ": no flattened synthesis log");
        return new Comparison(design.Name, estimate, total);
    }

    /// <summary>
    /// Every module with its features and what it takes in the flattened design: flip-flops and LUT RAM (shift
    /// registers) as the flattened netlist attributes them (<see cref="FlatNetlist"/>), logic LUTs from the
    /// per-module synthesis (flattening moves them by under 1 %); the top takes the rest of the flattened totals.
    /// Needs yosys/yosys.log, flat/yosys.log and flat/netlist.json.
    /// </summary>
    public static IEnumerable<ModuleSample> FlattenedSamples(GeneratedDesign design)
    {
        var hierarchyCells = YosysStatistics.ParseCells(File.ReadAllText(Path.Combine(design.Folder, "yosys", "yosys.log")));
        var hierarchy = hierarchyCells.ToDictionary(kv => kv.Key, kv => YosysStatistics.ToResources(kv.Value), StringComparer.Ordinal);
        var cells = FlattenedCells(design);
        // LUT RAM by attribution means shift registers only: a distributed buffer's RAM cells follow the counting rule.
        var flat = cells.ToDictionary(kv => kv.Key, kv => YosysStatistics.ToResources(kv.Value) with
            { LutRam = ShiftRegisters(kv.Value) }, StringComparer.Ordinal);
        var modules = ResourceModel.Modules(design.Design, file => File.ReadAllText(Path.Combine(design.Folder, "hdl", file)));
        var labels = InstanceLabels(design);
        var listed = new Resources();
        var samples = new List<ModuleSample>();
        ModuleSample Sample(DesignModule module, Resources measured)
        {
            var features = ResourceModel.Features(module, design.Design);
            return new ModuleSample(module.Kind, features, ResourceModel.SignedFeatures(module, features.Length), measured);
        }
        foreach (var module in modules.Where(m => m.Kind != ModuleKind.Top))
        {
            var attributed = labels[module.Entity].Aggregate(new Resources(), (sum, label) => sum + flat.GetValueOrDefault(label, new Resources()));
            var perModule = hierarchy[module.Entity];
            int logic = perModule.Lut - perModule.LutRam;
            // One entity per bank: the sample is one instance, as in Samples.
            // A datapath's small internal RAMs are counted like a distributed buffer's and fitted without them.
            var counted = ResourceModel.CountedMemory(module);
            int memory = module.Kind == ModuleKind.DistributedBuffer || counted.LutRam > 0 ? perModule.LutRam - ShiftRegisters(hierarchyCells[module.Entity]) : 0;
            int lutRam = memory + attributed.LutRam / module.Instances;
            var r = new Resources(logic + lutRam, lutRam, attributed.Ff / module.Instances, perModule.Bram18, perModule.Dsp);
            listed += r * module.Instances;
            var sample = Sample(module, r - counted);
            samples.Add(sample);
            if (sample.Kind != ModuleKind.Engine) yield return sample;
        }
        var total = Flattened(design) ?? throw new InvalidOperationException(design.Name + ": no flattened synthesis log");
        var top = modules.Single(m => m.Kind == ModuleKind.Top);
        var rest = new Resources(total.Lut - listed.Lut, total.LutRam - listed.LutRam, total.Ff - listed.Ff, total.Bram18 - listed.Bram18, total.Dsp - listed.Dsp);
        if (design.Design.Engine is null)
        {
            yield return Sample(top, rest);
            yield break;
        }
        // The top of an Engine design also holds the engine's read multiplexers and the banked buffers' element
        // selection: what it takes beyond the top model's estimate (the sequencer and address multiplexers, as in a
        // Layers design) belongs to the engine's sample. The top itself gives no sample here.
        var topEstimate = ResourceModel.Estimate(top, design.Design, ResourceCoefficients.Default);
        var engine = samples.Single(x => x.Kind == ModuleKind.Engine);
        yield return engine with { Measured = engine.Measured + (rest - topEstimate) with { Bram18 = 0, Dsp = 0 } };
    }

    /// <summary>Cell counts per instance label of the design's flattened netlist (flat/netlist.json).</summary>
    public static Dictionary<string, Dictionary<string, int>> FlattenedCells(GeneratedDesign design) =>
        FlatNetlist.CellsByInstance(Path.Combine(design.Folder, FlatFolder, "netlist.json"),
            Path.Combine(design.Folder, "yosys", "work", design.Name + ".v"), design.Name);

    /// <summary>The top's instance labels of each module entity: one per layer, one per bank of a buffer.</summary>
    public static Dictionary<string, IReadOnlyList<string>> InstanceLabels(GeneratedDesign design)
    {
        var labels = design.Design.OwnDatapaths.ToDictionary(l => l.Entity, l => (IReadOnlyList<string>)[HdlGenerator.InstanceLabel(l)]);
        if (design.Design.Engine is not null) labels[design.Design.EngineEntity] = [HdlGenerator.EngineLabel];
        foreach (var b in design.Design.Buffers) labels[b.Entity] = HdlGenerator.InstanceLabels(b);
        return labels;
    }

    private static int ShiftRegisters(IReadOnlyDictionary<string, int> cells) => cells.GetValueOrDefault("SRL16E") + cells.GetValueOrDefault("SRLC32E");

    /// <summary>The table: estimate, synthesis and error per resource per design, then mean and worst error.</summary>
    public static string Table(IReadOnlyList<Comparison> comparisons)
    {
        var lines = new List<string> { "| design | resource | estimate | Yosys | error |", "|---|---|---:|---:|---:|" };
        foreach (var c in comparisons)
            foreach (var (name, e, s) in Rows(c))
                lines.Add(string.Create(CultureInfo.InvariantCulture, $"| {c.Name} | {name} | {e} | {s} | {Error(name, e, s)} |"));
        lines.Add("");
        foreach (string resource in Resources.Names)
        {
            var errors = comparisons.Select(c => Rows(c).Single(r => r.Name == resource)).Select(r => Calibration.ErrorValue(r.Name, r.Estimate, r.Synthesis)).ToList();
            string unit = resource is "BRAM18" or "DSP" ? "" : " %";
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{resource}: mean |error| {errors.Average(Math.Abs):0.0}{unit}, worst {errors.Max(Math.Abs):0.0}{unit}"));
        }
        return string.Join("\n", lines) + "\n";
    }

    public static IEnumerable<(string Name, int Estimate, int Synthesis)> Rows(Comparison c) =>
        Resources.Names.Select(n => (n, c.Estimate[n], c.Synthesis[n]));

    private static string Error(string resource, int estimate, int synthesis) =>
        Calibration.ErrorValue(resource, estimate, synthesis).ToString(resource is "BRAM18" or "DSP" ? "+0;-0;0" : "+0.0 '%';-0.0 '%';0.0 '%'", CultureInfo.InvariantCulture);
}
