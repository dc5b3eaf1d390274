using System.Globalization;
using TransformerFpga.Hardware;
using TransformerFpga.TestSupport;

namespace TransformerFpga.Bench;

/// <summary>
/// Model vs netlist timing: generates designs (seeded random ones like the resource check's), maps
/// them flattened with Yosys and prints, per layer, the timing model's critical path next to the
/// worst register-to-register path static timing finds in the netlist. `--wide` draws from the wide space, `--engine`
/// builds the designs in the Engine architecture.
/// </summary>
public static class TimingBenchmark
{
    public static int Run(string[] args)
    {
        bool wide = args.Contains("--wide"), engine = args.Contains("--engine");
        var seeds = args.Skip(1).Where(a => !a.StartsWith("--", StringComparison.Ordinal)).Select(a => int.Parse(a, CultureInfo.InvariantCulture)).DefaultIfEmpty(301).ToList();
        // TFPGA_TIMING_DIR keeps the designs and reuses netlists already synthesized there.
        string? kept = Environment.GetEnvironmentVariable("TFPGA_TIMING_DIR");
        string root = kept ?? Path.Combine(Path.GetTempPath(), "tfpga-timing-" + Environment.ProcessId);
        try
        {
            foreach (int seed in seeds)
            {
                string folder = Path.Combine(root, "d" + seed.ToString(CultureInfo.InvariantCulture));
                var design = SynthesisCheck.Generate(seed, folder, wide, engine);
                string netlist = Path.Combine(folder, SynthesisCheck.FlatFolder, "netlist.json");
                int code = kept is not null && File.Exists(netlist) ? 0 : NetlistTiming.Synthesize(folder, TimeSpan.FromMinutes(20)).ExitCode;
                if (code != 0) { Console.Error.WriteLine($"{design.Name}: yosys exit {code} (see {folder}/{SynthesisCheck.FlatFolder}/yosys.log)"); return 1; }
                var sta = NetlistTiming.Analyze(netlist, design.Design.Top);
                var model = DesignTiming.Of(design.Design);
                Console.WriteLine($"{design.Name}: model {model.Critical.Nanoseconds:0.00} ns ({model.Critical.Name}), netlist {sta.Worst}");
                Console.Write(TimingComparison.Table(design.Name, TimingComparison.Rows(design.Design, sta)));
            }
        }
        finally
        {
            if (kept is null) try { Directory.Delete(root, true); } catch (IOException) { }
        }
        return 0;
    }
}
