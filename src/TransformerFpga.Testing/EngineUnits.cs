using System.Text.Json;
using System.Text.RegularExpressions;

namespace TransformerFpga.Hardware;

/// <summary>
/// Splits the cells of a flattened Engine design (flat/netlist.json of synth_xilinx -flatten) among its units: the
/// engine's MAC array, requantizer, write-back, sequencer and ROMs, and the other instances (softmax, norm, buffers,
/// read multiplexers) and the top's own logic. Measured, not estimated.
/// The flow reads GHDL's Verilog (yosys/work/TOP.v), in which GHDL puts "/* FILE.vhd:LINE:COL */" before every
/// statement; a cell is located in the VHDL through that comment:
/// 1. its src attribute (Verilog lines: DSP48E1, CARRY4; flip-flops too, but theirs is mostly the "if rising_edge" line that
///    every register of a process shares, which is skipped, as is the instantiation line that flattening adds);
/// 2. else the names of the nets it drives (a register's signal names its declaration, an assign its statement):
///    names inside an instance first, then the top's, whose nets may come from an instance's output;
/// 3. else (abc's LUTs drive unnamed nets, the techmapped LUT RAM has no Verilog src) the unit of the cells it
///    feeds, then of the cells feeding it, as FlatNetlist does for instances.
/// A VHDL location maps to a unit by its file (buffers, softmax, read multiplexers) or, in the engine and the top,
/// by line ranges between comment headers of the generated file (the processes there are unlabelled).
/// </summary>
public static class EngineUnits
{
    public const string Array = "array (MAC lanes, adder tree, accumulator)";
    public const string Requantizer = "requantizer";
    public const string WriteBack = "write-back (element-wise stages incl. batch norm, write address)";
    public const string Sequencer = "sequencer and descriptors";
    public const string Roms = "weight and bias ROMs";
    public const string Softmax = "softmax";
    public const string Norm = "norm";
    public const string OtherLayers = "other layers";
    public const string Buffers = "buffers";
    public const string ReadMux = "read multiplexers (tfpga_rdmux)";
    public const string TopInput = "top: input";
    public const string TopControl = "top: layer sequencer";
    public const string TopMux = "top: bank selects, engine operand multiplexers";
    public const string Unattributed = "unattributed";

    /// <summary>The units in table order.</summary>
    public static readonly string[] Units = [Array, Requantizer, WriteBack, Sequencer, Roms, Softmax, Norm, OtherLayers, Buffers, ReadMux, TopInput, TopControl, TopMux, Unattributed];

    /// <summary>How a cell was located: 0 src, 1 net name, 2 neighbours, 3 not at all.</summary>
    public sealed record Result(Dictionary<string, Dictionary<string, int>> Cells, Dictionary<string, int[]> HowByType);

    // The engine's sections, in file order: a unit holds from its header to the next one.
    private static readonly (string Header, string Unit)[] EngineSections =
    [
        (@"^", Sequencer),                                   // constants, descriptor and issue-side signals
        (@"^\s*-- MAC pipeline$", Array),
        (@"^\s*-- requantizer stages", Requantizer),
        (@"^\s*-- write-back stages", WriteBack),            // also the write side's signals
        (@"^begin$", Sequencer),                             // the read addresses
        (@"^\s*-- the write: the requantizer's result", WriteBack),
        (@"^\s*process \(clk\)", Array),                     // the issue flags, then the MAC stages
        (@"^\s*-- requantizer:", Requantizer),
        (@"^\s*-- write-back stages:", WriteBack),           // then the write address
        (@"^\s*case state is", Sequencer),                   // the step's job, descriptor load, issue counters, reset
    ];

    // Lines of the weight and bias ROMs inside the array's section: the lookups and their output registers.
    private static readonly Regex RomLine = new(@"\b(WEIGHTS\w*|BIAS)\(|^\s*signal (w_rom_q|w_bram_q|w_lut_q|bias_q)\b", RegexOptions.CultureInvariant);

    private static readonly (string Header, string Unit)[] TopSections =
    [
        (@"^", TopControl),                                  // the layer sequencer's signals
        (@"-- tfpga:signals-begin", TopMux),                 // buffer and engine signals
        (@"^\s*type x_elements_t", TopInput),
        (@"-- tfpga:signals-end", TopControl),               // the sequencer process
        (@"-- tfpga:instances-begin", TopInput),
        (@"^\s*-- the outputs, read through", TopMux),       // then bank selects, instances and the engine's multiplexers
    ];

    private static readonly Regex Comment = new(@"^\s*/\* (\S+\.vhd):(\d+):\d+\s*\*/", RegexOptions.CultureInvariant);
    private static readonly Regex ModuleHeader = new(@"^module\s+(\w+)", RegexOptions.CultureInvariant);
    private static readonly Regex Target = new(@"^\s*(?:assign\s+|reg\s+(?:\[[^\]]*\]\s*)?)?(\w+)\s*(?:\[[^\]]*\]\s*)*(?:<?=|;)", RegexOptions.CultureInvariant);
    private static readonly Regex Instantiation = new(@"^\s+(\w+)\s+(\w+)\s*\(\s*$", RegexOptions.CultureInvariant);
    private static readonly Regex Src = new(@"^(.+\.v):(\d+)\.", RegexOptions.CultureInvariant);

    private sealed record Cell(string Name, string Type, string? Src, long[] Outputs, long[] Inputs);

    /// <summary>Cell counts per unit of the design in <paramref name="folder"/> (hdl/, yosys/work/TOP.v, flat/netlist.json).</summary>
    public static Result Attribute(string folder, string top)
    {
        string verilogPath = Path.Combine("yosys", "work", top + ".v");
        var verilog = File.ReadAllLines(Path.Combine(folder, verilogPath));
        var engineUnits = LineUnits(Path.Combine(folder, "hdl", top + "_engine.vhd"), EngineSections, RomLine);
        var topUnits = LineUnits(Path.Combine(folder, "hdl", top + ".vhd"), TopSections, null);
        string? UnitOf((string File, int Line) loc)
        {
            if (loc.File == top + "_engine.vhd") return loc.Line > 0 && loc.Line <= engineUnits.Length ? engineUnits[loc.Line - 1] : null;
            if (loc.File == top + ".vhd") return loc.Line > 0 && loc.Line <= topUnits.Length ? topUnits[loc.Line - 1] : null;
            string entity = Path.GetFileNameWithoutExtension(loc.File);
            return entity.EndsWith("_buf", StringComparison.Ordinal) ? Buffers
                : entity == "tfpga_rdmux" ? ReadMux
                : entity.Contains("softmax", StringComparison.Ordinal) ? Softmax
                : entity.Contains("norm", StringComparison.Ordinal) ? Norm
                : entity.StartsWith(top + "_", StringComparison.Ordinal) ? OtherLayers : null;
        }

        // The Verilog: per line the VHDL location of its statement; per (module, name) the location of the statement
        // that drives or declares it, when a comment stands right before it; the top's instances.
        var lineLoc = new (string File, int Line)?[verilog.Length + 2];
        var nameLoc = new Dictionary<(string Module, string Name), (string File, int Line)>();
        var clockLocs = new HashSet<(string File, int Line)>();
        var instantiationLines = new HashSet<int>();
        var instanceModule = new Dictionary<string, string>(StringComparer.Ordinal);
        var moduleFile = new Dictionary<string, string>(StringComparer.Ordinal);
        string module = "";
        (string File, int Line)? last = null, pending = null;
        for (int i = 0; i < verilog.Length; i++)
        {
            string line = verilog[i];
            if (ModuleHeader.Match(line) is { Success: true } header) { module = header.Groups[1].Value; last = pending = null; continue; }
            if (Comment.Match(line) is { Success: true } comment)
            {
                last = pending = (comment.Groups[1].Value, int.Parse(comment.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
                moduleFile.TryAdd(module, last.Value.File);
                continue;
            }
            lineLoc[i + 1] = last;
            if (line.TrimStart().StartsWith("always", StringComparison.Ordinal))
            {
                if (pending is { } p && line.Contains("posedge", StringComparison.Ordinal)) clockLocs.Add(p);
                continue;   // the target is on the next line
            }
            if (Instantiation.Match(line) is { Success: true } instance)
            {
                instantiationLines.Add(i + 1);
                if (module == top) instanceModule[instance.Groups[2].Value] = instance.Groups[1].Value;
            }
            else if (pending is { } p && Target.Match(line) is { Success: true } target)
                nameLoc.TryAdd((module, target.Groups[1].Value), p);
            pending = null;
        }

        // A name's unit: "instance.name" or a name of the top; an instance's name without a location still tells its
        // file, which is enough for the units that are whole files.
        string? NameUnit(string name, bool inInstance)
        {
            int dot = name.IndexOf('.', StringComparison.Ordinal);
            if (inInstance != dot > 0) return null;
            string m = top, local = name;
            if (dot > 0)
            {
                if (!instanceModule.TryGetValue(name[..dot].TrimStart('\\'), out m!)) return null;
                local = name[(dot + 1)..];
                int next = local.IndexOf('.', StringComparison.Ordinal);
                if (next > 0) local = local[..next];   // memory cells: instance.memory.row.column
            }
            if (nameLoc.TryGetValue((m, local), out var loc)) return clockLocs.Contains(loc) ? null : UnitOf(loc);
            return dot > 0 && moduleFile.TryGetValue(m, out var file) ? UnitOf((file, 0)) : null;
        }

        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, SynthesisCheck.FlatFolder, "netlist.json")), new JsonDocumentOptions { MaxDepth = 256 });
        var json = document.RootElement.GetProperty("modules").GetProperty(top);
        var names = new Dictionary<long, List<string>>();
        foreach (var net in json.GetProperty("netnames").EnumerateObject())
        {
            if (net.Value.TryGetProperty("hide_name", out var hide) && hide.GetInt32() == 1) continue;
            foreach (var bit in net.Value.GetProperty("bits").EnumerateArray())
                if (bit.ValueKind == JsonValueKind.Number) (names.TryGetValue(bit.GetInt64(), out var l) ? l : names[bit.GetInt64()] = []).Add(net.Name);
        }
        var cells = new List<Cell>();
        foreach (var c in json.GetProperty("cells").EnumerateObject())
        {
            var directions = c.Value.GetProperty("port_directions");
            var outs = new List<long>();
            var ins = new List<long>();
            foreach (var p in c.Value.GetProperty("connections").EnumerateObject())
                foreach (var bit in p.Value.EnumerateArray())
                    if (bit.ValueKind == JsonValueKind.Number) (directions.GetProperty(p.Name).GetString() == "output" ? outs : ins).Add(bit.GetInt64());
            string? src = c.Value.GetProperty("attributes").TryGetProperty("src", out var s) ? s.GetString() : null;
            cells.Add(new Cell(c.Name, c.Value.GetProperty("type").GetString()!, src, outs.ToArray(), ins.ToArray()));
        }

        var unitOf = new string?[cells.Count];
        var how = new int[cells.Count];
        for (int i = 0; i < cells.Count; i++)
        {
            var cell = cells[i];
            var fromSrc = (cell.Src ?? "").Split('|').Select(part => Src.Match(part))
                .Where(m => m.Success && m.Groups[1].Value.EndsWith(verilogPath, StringComparison.Ordinal))
                .Select(m => int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture))
                .Where(l => l < lineLoc.Length && !instantiationLines.Contains(l) && lineLoc[l] is { } loc && !clockLocs.Contains(loc))
                .Select(l => UnitOf(lineLoc[l]!.Value));
            var driven = cell.Outputs.SelectMany(b => names.GetValueOrDefault(b) ?? []).Append(cell.Name.TrimStart('$').Replace("flatten\\", "", StringComparison.Ordinal)).ToList();
            var candidates = new[] { fromSrc, driven.Select(n => NameUnit(n, true)), driven.Select(n => NameUnit(n, false)) };
            for (int k = 0; k < candidates.Length && unitOf[i] is null; k++)
            {
                unitOf[i] = Vote(candidates[k]);
                how[i] = Math.Min(k, 1);
            }
        }

        // Unlocated cells: the unit of the cells they drive, then of the cells driving them.
        var (driverOf, loadsOf) = FlatNetlist.Connections(cells.Select(c => (c.Outputs, c.Inputs)).ToList());
        for (int round = 0; round < 16; round++)
        {
            var next = (string?[])unitOf.Clone();
            for (int i = 0; i < cells.Count; i++)
            {
                if (unitOf[i] is not null) continue;
                next[i] = Vote(cells[i].Outputs.SelectMany(b => loadsOf.GetValueOrDefault(b) ?? []).Select(j => unitOf[j]))
                    ?? Vote(cells[i].Inputs.Where(driverOf.ContainsKey).Select(b => unitOf[driverOf[b]]));
                how[i] = next[i] is null ? 3 : 2;
            }
            bool changed = !next.SequenceEqual(unitOf);
            unitOf = next;
            if (!changed) break;
        }

        var result = new Result(new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal), new Dictionary<string, int[]>(StringComparer.Ordinal));
        for (int i = 0; i < cells.Count; i++)
        {
            string unit = unitOf[i] ?? Unattributed;
            var counts = result.Cells.TryGetValue(unit, out var c) ? c : result.Cells[unit] = new Dictionary<string, int>(StringComparer.Ordinal);
            counts[cells[i].Type] = counts.GetValueOrDefault(cells[i].Type) + 1;
            (result.HowByType.TryGetValue(cells[i].Type, out var h) ? h : result.HowByType[cells[i].Type] = new int[4])[how[i]]++;
        }
        return result;
    }

    /// <summary>The most frequent unit (ties: table order), null when there is none.</summary>
    private static string? Vote(IEnumerable<string?> units) =>
        units.Where(u => u is not null).GroupBy(u => u!).OrderByDescending(g => g.Count()).ThenBy(g => System.Array.IndexOf(Units, g.Key)).FirstOrDefault()?.Key;

    /// <summary>The unit of each line of a generated VHDL file from its section headers (all must be found, in order).</summary>
    private static string[] LineUnits(string vhdl, (string Header, string Unit)[] sections, Regex? romLine)
    {
        var lines = File.ReadAllLines(vhdl);
        var units = new string[lines.Length];
        int at = 0;
        for (int s = 0; s < sections.Length; s++)
        {
            var header = new Regex(sections[s].Header, RegexOptions.CultureInvariant);
            while (at < lines.Length && !header.IsMatch(lines[at])) at++;
            if (at == lines.Length) throw new InvalidOperationException($"{Path.GetFileName(vhdl)}: no section header /{sections[s].Header}/ (the generated file changed?)");
            var end = s + 1 < sections.Length ? new Regex(sections[s + 1].Header, RegexOptions.CultureInvariant) : null;
            do units[at] = romLine?.IsMatch(lines[at]) == true ? Roms : sections[s].Unit;
            while (++at < lines.Length && (end is null || !end.IsMatch(lines[at])));
        }
        return units;
    }
}
