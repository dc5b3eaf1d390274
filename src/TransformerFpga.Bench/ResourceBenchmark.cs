using System.Globalization;
using TransformerFpga.Hardware;

namespace TransformerFpga.Bench;

/// <summary>
/// Add `--wide` to draw the designs from the wide space (d_model up to 64, two encoder layers, attention lanes), `--engine`
/// to build them in the Engine architecture (fit then refits the engine's coefficients only), `--kind KIND` to refit one
/// layer kind's coefficients only (after a change to its template), keeping the shipped ones of every other kind.
/// `resources fit FOLDER FIRST[,FIRST…] COUNT OUT.json`: synthesizes COUNT generated designs (from each first seed) with Yosys, per module and
/// flattened, and fits the resource model's coefficients to what each module takes in the flattened design.
/// `resources table FOLDER FIRST COUNT [--abc9]`: synthesizes designs flattened (use seeds the fit never saw) and
/// prints estimate vs Yosys per design and resource; with --abc9 also the LUT count of Yosys' timing-driven mapper.
/// `resources modules FOLDER SEED 1`: one synthesized design's estimate per instance against what the flattened
/// netlist attributes to it (FF, shift registers, RAMB18, DSP48E1), largest differences first.
/// Finished runs in FOLDER are reused.
/// </summary>
public static class ResourceBenchmark
{
    public static int Run(string[] args)
    {
        string mode = args[1], root = args[2];
        // FIRST may list several first seeds ("401,701"): COUNT designs from each.
        var firsts = args[3].Split(',').Select(f => int.Parse(f, CultureInfo.InvariantCulture)).ToList();
        int first = firsts[0], count = int.Parse(args[4], CultureInfo.InvariantCulture);
        var seeds = firsts.SelectMany(f => Enumerable.Range(f, count)).ToList();
        bool wide = args.Contains("--wide"), abc9 = args.Contains("--abc9"), engine = args.Contains("--engine");
        int kindAt = Array.IndexOf(args, "--kind");
        ModuleKind? onlyKind = kindAt > 0 ? Enum.Parse<ModuleKind>(args[kindAt + 1]) : engine ? ModuleKind.Engine : null;
        if (mode == "modules") return Modules(SynthesisCheck.Generate(first, Path.Combine(root, "d" + first.ToString(CultureInfo.InvariantCulture)), wide));
        var designs = seeds.Select(seed => SynthesisCheck.Generate(seed, Path.Combine(root, "d" + seed.ToString(CultureInfo.InvariantCulture)), wide, engine)).ToList();
        var runs = new List<(SynthesisCheck.GeneratedDesign Design, string What)>();
        foreach (var d in designs)
        {
            if (mode == "fit") runs.Add((d, "hierarchy"));
            runs.Add((d, "netlist"));
            if (abc9) runs.Add((d, "abc9"));
        }
        Parallel.ForEach(runs, new ParallelOptions { MaxDegreeOfParallelism = 2 }, run =>
        {
            var (d, what) = run;
            string log = Path.Combine(d.Folder, what == "hierarchy" ? "yosys" : SynthesisCheck.FlatFolder, what == "abc9" ? "abc9.log" : "yosys.log");
            bool done = File.Exists(log) && File.ReadAllText(log).Contains("End of script", StringComparison.Ordinal)
                && (what != "netlist" || File.Exists(Path.Combine(d.Folder, SynthesisCheck.FlatFolder, "netlist.json")));
            if (done) return;
            var timeout = TimeSpan.FromMinutes(40);
            int code = what switch
            {
                "hierarchy" => SynthesisCheck.RunYosys(d.Folder, timeout),
                "abc9" => SynthesisCheck.RunFlattened(d.Folder, timeout, abc9: true),
                _ => SynthesisCheck.RunFlattened(d.Folder, timeout, netlist: true),
            };
            Console.Error.WriteLine($"{d.Name} {what}: yosys exit {code}");
        });

        var coefficients = ResourceCoefficients.Default;
        if (mode == "fit" && onlyKind is { } kind)
        {
            // One kind refitted (Engine designs: the engine's); every other kind keeps the shipped coefficients.
            var shipped = ResourceCoefficients.Default;
            coefficients = ResourceFit.Fit(designs.SelectMany(SynthesisCheck.FlattenedSamples).Where(s => s.Kind == kind),
                shipped.Source + $"; {kind}: Yosys 0.23 synth_xilinx -flatten of generated {(engine ? "Engine " : "")}designs (seeds " + string.Join(", ", firsts.Select(f => f.ToString(CultureInfo.InvariantCulture) + "–"
                + (f + count - 1).ToString(CultureInfo.InvariantCulture))) + (wide ? ", wide space" : "") + ")" + (engine ? ", with the engine's multiplexers in the top" : ""), shipped);
            coefficients.ErrorPercent = shipped.ErrorPercent;
            File.WriteAllText(args[5], coefficients.ToJson() + "\n");
            Console.WriteLine("in-sample (the designs the coefficients were fitted to), against flattened synthesis:");
        }
        else if (mode == "fit")
        {
            coefficients = ResourceFit.Fit(designs.SelectMany(SynthesisCheck.FlattenedSamples),
                "Yosys 0.23 synth_xilinx -flatten of generated designs (seeds " + string.Join(", ", firsts.Select(f => f.ToString(CultureInfo.InvariantCulture) + "–"
                + (f + count - 1).ToString(CultureInfo.InvariantCulture))) + (wide ? ", wide space" : "") + "), per module as the flattened netlist attributes it");
            File.WriteAllText(args[5], coefficients.ToJson() + "\n");
            Console.WriteLine("in-sample (the designs the coefficients were fitted to), against flattened synthesis:");
        }
        Console.Write(SynthesisCheck.Table(designs.Select(d => SynthesisCheck.CompareFlattened(d, coefficients)).ToList()));
        if (abc9)
        {
            Console.WriteLine();
            Console.WriteLine("| design | LUT estimate | LUT flattened | LUT flattened -abc9 (of which INV) |");
            Console.WriteLine("|---|---:|---:|---:|");
            foreach (var d in designs)
            {
                var c = SynthesisCheck.CompareFlattened(d, coefficients);
                string log = Path.Combine(d.Folder, SynthesisCheck.FlatFolder, "abc9.log");
                string abc = SynthesisCheck.Flattened(d, abc9: true) is { } r
                    ? r.Lut.ToString(CultureInfo.InvariantCulture) + " (" + YosysStatistics.ParseCells(File.ReadAllText(log))[d.Name].GetValueOrDefault("INV").ToString(CultureInfo.InvariantCulture) + ")"
                    : "did not complete";
                Console.WriteLine($"| {d.Name} | {c.Estimate.Lut} | {c.Synthesis.Lut} | {abc} |");
            }
        }
        return 0;
    }

    private static int Modules(SynthesisCheck.GeneratedDesign d)
    {
        var cells = SynthesisCheck.FlattenedCells(d);
        var modules = ResourceModel.Modules(d.Design, file => File.ReadAllText(Path.Combine(d.Folder, "hdl", file)));
        var labels = SynthesisCheck.InstanceLabels(d);
        Console.WriteLine("| instance | kind | FF est | FF flat | SRL flat | RAMB18 est | RAMB18 flat | DSP est | DSP flat |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        var rows = new List<(double Order, string Line)>();
        foreach (var m in modules.Where(m => m.Kind != ModuleKind.Top))
        {
            var e = ResourceModel.Estimate(m, d.Design, ResourceCoefficients.Default);
            var c = labels[m.Entity].SelectMany(l => cells.GetValueOrDefault(l, [])).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value));
            var f = YosysStatistics.ToResources(c);
            int srl = c.GetValueOrDefault("SRL16E") + c.GetValueOrDefault("SRLC32E");
            rows.Add((-Math.Abs(e.Ff - f.Ff) - 100 * Math.Abs(e.Bram18 - f.Bram18),
                $"| {string.Join(",", labels[m.Entity])} | {m.Kind} | {e.Ff} | {f.Ff} | {srl} | {e.Bram18} | {f.Bram18} | {e.Dsp} | {f.Dsp} |"));
        }
        foreach (var (_, line) in rows.OrderBy(r => r.Order)) Console.WriteLine(line);
        return 0;
    }
}
