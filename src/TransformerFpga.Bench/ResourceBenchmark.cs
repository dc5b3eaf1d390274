using System.Globalization;
using TransformerFpga.Hardware;

namespace TransformerFpga.Bench;

/// <summary>
/// Add `--wide` to draw the designs from the wide space (d_model up to 64, two encoder layers, attention lanes).
/// `resources fit FOLDER FIRST COUNT OUT.json`: synthesizes COUNT generated designs with Yosys and fits
/// the resource model's coefficients to them. `resources table FOLDER FIRST COUNT`: synthesizes designs
/// (use seeds the fit never saw) and prints estimate vs Yosys per design and resource.
/// </summary>
public static class ResourceBenchmark
{
    public static int Run(string[] args)
    {
        string mode = args[1], root = args[2];
        int first = int.Parse(args[3], CultureInfo.InvariantCulture), count = int.Parse(args[4], CultureInfo.InvariantCulture);
        bool wide = args.Contains("--wide");
        var designs = Synthesize(root, first, count, wide);
        if (mode == "fit")
        {
            var coefficients = ResourceFit.Fit(designs.SelectMany(d => SynthesisCheck.Samples(d.Design, d.Comparison)), "Yosys 0.23 synth_xilinx of generated designs (seeds " + first.ToString(CultureInfo.InvariantCulture) + "–" + (first + count - 1).ToString(CultureInfo.InvariantCulture) + (wide ? ", wide space" : "") + ")");
            File.WriteAllText(args[5], coefficients.ToJson() + "\n");
            designs = designs.Select(d => (d.Design, SynthesisCheck.Compare(d.Design, coefficients))).ToList();
            Console.WriteLine("in-sample (the designs the coefficients were fitted to):");
        }
        Console.Write(SynthesisCheck.Table(designs.Select(d => d.Comparison).ToList()));
        return 0;
    }

    private static List<(SynthesisCheck.GeneratedDesign Design, SynthesisCheck.Comparison Comparison)> Synthesize(string root, int first, int count, bool wide)
    {
        var generated = Enumerable.Range(first, count).Select(seed => SynthesisCheck.Generate(seed, Path.Combine(root, "d" + seed.ToString(CultureInfo.InvariantCulture)), wide)).ToList();
        Parallel.ForEach(generated, new ParallelOptions { MaxDegreeOfParallelism = 2 }, d =>
        {
            if (File.Exists(Path.Combine(d.Folder, "yosys", "yosys.log")) && File.ReadAllText(Path.Combine(d.Folder, "yosys", "yosys.log")).Contains("design hierarchy", StringComparison.Ordinal)) return;
            int code = SynthesisCheck.RunYosys(d.Folder, TimeSpan.FromMinutes(20));
            Console.Error.WriteLine($"{d.Name}: yosys exit {code}");
        });
        return generated.Select(d => (d, SynthesisCheck.Compare(d, ResourceCoefficients.Default))).ToList();
    }
}
