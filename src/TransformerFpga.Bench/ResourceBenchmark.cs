using System.Globalization;
using TransformerFpga.Hardware;

namespace TransformerFpga.Bench;

/// <summary>
/// Add `--wide` to draw the designs from the wide space (d_model up to 64, two encoder layers, attention lanes).
/// `resources fit FOLDER FIRST COUNT OUT.json`: synthesizes COUNT generated designs with Yosys, per module and
/// flattened, and fits the resource model's coefficients to what each module takes in the flattened design.
/// `resources table FOLDER FIRST COUNT [--abc9]`: synthesizes designs flattened (use seeds the fit never saw) and
/// prints estimate vs Yosys per design and resource; with --abc9 also the LUT count of Yosys' timing-driven mapper.
/// Finished runs in FOLDER are reused.
/// </summary>
public static class ResourceBenchmark
{
    public static int Run(string[] args)
    {
        string mode = args[1], root = args[2];
        int first = int.Parse(args[3], CultureInfo.InvariantCulture), count = int.Parse(args[4], CultureInfo.InvariantCulture);
        bool wide = args.Contains("--wide"), abc9 = args.Contains("--abc9");
        var designs = Enumerable.Range(first, count).Select(seed => SynthesisCheck.Generate(seed, Path.Combine(root, "d" + seed.ToString(CultureInfo.InvariantCulture)), wide)).ToList();
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
        if (mode == "fit")
        {
            coefficients = ResourceFit.Fit(designs.SelectMany(SynthesisCheck.FlattenedSamples),
                "Yosys 0.23 synth_xilinx -flatten of generated designs (seeds " + first.ToString(CultureInfo.InvariantCulture) + "–"
                + (first + count - 1).ToString(CultureInfo.InvariantCulture) + (wide ? ", wide space" : "") + "), per module as the flattened netlist attributes it");
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
}
