using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using TransformerFpga.Hardware;

namespace TransformerFpga.TestSupport;

/// <summary>One register-to-register path of the mapped netlist: its delay, its cells and the layer instance it ends in.</summary>
public sealed record NetlistPath(double Nanoseconds, IReadOnlyList<string> Cells, string Instance)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Nanoseconds:0.00} ns in {Instance}: {string.Join(" → ", Cells)}");
}

/// <summary>
/// Static timing over a design that Yosys mapped to Xilinx 7-series cells and flattened (write_json),
/// with the delay figures of <see cref="Delays"/>: flip-flop clock→Q and setup, one LUT per LUT1–6/INV,
/// CARRY4 and MUXF7/F8 per arc from the specify blocks of Yosys' xilinx/cells_sim.v, block RAM
/// clock→out by DOA_REG/DOB_REG, LUT-RAM and SRL asynchronous reads, DSP48E1 by its internal
/// registers. Each net costs one routing hop except the dedicated carry (CO[3]→CI), LUT→CARRY4 S in
/// the same slice, LUT/MUXF7→MUXF7/F8 data inputs and DSP cascade links (PCOUT→PCIN, ACOUT, BCOUT).
/// </summary>
public sealed class NetlistTiming
{
    private sealed record Cell(string Name, string Type, Dictionary<string, long> Parameters, Dictionary<string, object[]> Connections, Dictionary<string, string> Directions);

    /// <summary>How a net bit got its arrival time: from which cell, through which of its input bits.</summary>
    private readonly record struct Arrival(double Time, Cell? Through, object? From, bool Start);

    private readonly Dictionary<object, (Cell Cell, string Port)> _driver = new();
    private readonly Dictionary<object, List<(Cell Cell, string Port)>> _loads = new();
    private readonly Dictionary<object, List<string>> _names = new();
    private readonly List<Cell> _cells = [];
    private readonly Dictionary<object, Arrival> _arrival = new();
    private readonly Dictionary<(string Type, string From, string To), double> _arcs;

    private NetlistTiming(JsonElement module, Dictionary<(string, string, string), double> arcs)
    {
        _arcs = arcs;
        foreach (var c in module.GetProperty("cells").EnumerateObject())
        {
            var parameters = new Dictionary<string, long>(StringComparer.Ordinal);
            if (c.Value.TryGetProperty("parameters", out var ps))
                foreach (var p in ps.EnumerateObject()) parameters[p.Name] = Parameter(p.Value);
            var directions = c.Value.GetProperty("port_directions").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal);
            var connections = c.Value.GetProperty("connections").EnumerateObject().ToDictionary(p => p.Name,
                p => p.Value.EnumerateArray().Select(Bit).ToArray(), StringComparer.Ordinal);
            var cell = new Cell(c.Name, c.Value.GetProperty("type").GetString()!, parameters, connections, directions);
            _cells.Add(cell);
            foreach (var (port, bits) in connections)
                for (int i = 0; i < bits.Length; i++)
                {
                    if (bits[i] is string) continue; // constant
                    string pin = bits.Length == 1 && !IsBus(cell.Type, port) ? port : $"{port}[{i}]";
                    if (directions[port] == "output") _driver[bits[i]] = (cell, pin);
                    else (_loads.TryGetValue(bits[i], out var l) ? l : _loads[bits[i]] = []).Add((cell, pin));
                }
        }
        foreach (var n in module.GetProperty("netnames").EnumerateObject())
        {
            if (n.Value.TryGetProperty("hide_name", out var hide) && hide.GetInt32() == 1) continue;
            foreach (var b in n.Value.GetProperty("bits").EnumerateArray().Select(Bit).Where(b => b is long))
                (_names.TryGetValue(b, out var l) ? l : _names[b] = []).Add(n.Name);
        }
    }

    /// <summary>Every endpoint's worst path, worst first.</summary>
    public IReadOnlyList<NetlistPath> Paths { get; private set; } = [];

    /// <summary>The worst register-to-register path of the design.</summary>
    public NetlistPath Worst => Paths[0];

    /// <summary>The worst path ending in each instance (layer label such as u_l3, or "top").</summary>
    public IReadOnlyDictionary<string, NetlistPath> WorstPerInstance =>
        Paths.GroupBy(p => p.Instance).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);

    /// <summary>Reads a write_json netlist of a flattened design and times it.</summary>
    public static NetlistTiming Analyze(string netlistJson, string top)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(netlistJson), new JsonDocumentOptions { MaxDepth = 256 });
        var modules = document.RootElement.GetProperty("modules");
        var timing = new NetlistTiming(modules.GetProperty(top), SpecifyArcs(CellsSimPath()));
        timing.Run();
        return timing;
    }

    /// <summary>Synthesizes the design flattened with its netlist (<see cref="SynthesisCheck.RunFlattened"/>); returns Yosys' exit code and the netlist path.</summary>
    public static (int ExitCode, string Netlist) Synthesize(string folder, TimeSpan timeout)
    {
        int code = SynthesisCheck.RunFlattened(folder, timeout, netlist: true);
        return (code, code == -1 ? "" : Path.Combine(folder, SynthesisCheck.FlatFolder, "netlist.json"));
    }

    private static string CellsSimPath()
    {
        foreach (string dir in new[] { Environment.GetEnvironmentVariable("YOSYS_DATDIR") ?? "", "/usr/share/yosys", "/usr/local/share/yosys" })
            if (dir.Length > 0 && File.Exists(Path.Combine(dir, "xilinx", "cells_sim.v"))) return Path.Combine(dir, "xilinx", "cells_sim.v");
        throw new FileNotFoundException("xilinx/cells_sim.v of Yosys not found (set YOSYS_DATDIR to Yosys' share folder)");
    }

    /// <summary>The (input → output) = ps arcs of CARRY4, MUXF7 and MUXF8 from the specify blocks, in ns.</summary>
    private static Dictionary<(string, string, string), double> SpecifyArcs(string cellsSim)
    {
        var arcs = new Dictionary<(string, string, string), double>();
        string text = File.ReadAllText(cellsSim);
        foreach (string type in new[] { "CARRY4", "MUXF7", "MUXF8" })
        {
            int start = text.IndexOf("module " + type + "(", StringComparison.Ordinal);
            if (start < 0) start = text.IndexOf("module " + type + " ", StringComparison.Ordinal);
            int end = text.IndexOf("endmodule", start, StringComparison.Ordinal);
            foreach (Match m in Regex.Matches(text[start..end], @"\(\s*(\w+(?:\[\d+\])?)\s*=>\s*(\w+(?:\[\d+\])?)\s*\)\s*=\s*(\d+)\s*;"))
                arcs[(type, m.Groups[1].Value, m.Groups[2].Value)] = int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture) / 1000.0;
        }
        if (!arcs.Keys.Any(k => k.Item1 == "CARRY4")) throw new InvalidDataException("no CARRY4 specify arcs in " + cellsSim);
        return arcs;
    }

    private static object Bit(JsonElement e) => e.ValueKind == JsonValueKind.Number ? e.GetInt64() : e.GetString()!;

    private static long Parameter(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Number) return e.GetInt64();
        string s = e.GetString() ?? "";
        if (s.Length > 0 && s.Length <= 62 && s.All(c => c is '0' or '1')) return Convert.ToInt64(s, 2);
        return 0;
    }

    private static bool IsBus(string type, string port) => type is "CARRY4" && port is "CO" or "O" or "S" or "DI";

    private static bool IsFlipFlop(string type) => type is "FDRE" or "FDSE" or "FDCE" or "FDPE";
    private static bool IsLut(string type) => type is "INV" || Regex.IsMatch(type, "^LUT[1-6]$");
    private static bool IsLutRam(string type) => type.StartsWith("RAM", StringComparison.Ordinal) && !type.StartsWith("RAMB", StringComparison.Ordinal);
    private static bool IsShiftRegister(string type) => type is "SRL16E" or "SRLC32E";
    private static bool IsBlockRam(string type) => type is "RAMB18E1" or "RAMB36E1";
    private static string Port(string pin) => pin.Contains('[') ? pin[..pin.IndexOf('[')] : pin;

    /// <summary>Clock → output of a sequential cell's output pin, or null when the pin is combinational.</summary>
    private static double? ClockToOut(Cell cell, string pin)
    {
        string port = Port(pin);
        if (IsFlipFlop(cell.Type)) return Delays.ClockToQ;
        if (IsBlockRam(cell.Type))
        {
            bool registered = port.StartsWith("DOA", StringComparison.Ordinal) || port.StartsWith("DOPA", StringComparison.Ordinal)
                ? cell.Parameters.GetValueOrDefault("DOA_REG") == 1 : cell.Parameters.GetValueOrDefault("DOB_REG") == 1;
            return registered ? Delays.BlockRamRegisteredClockToOut : Delays.BlockRamClockToOut;
        }
        if (IsShiftRegister(cell.Type)) return Delays.ShiftRegisterClockToOut;
        if (cell.Type == "DSP48E1") return DspStart(cell);
        return null;
    }

    /// <summary>DSP48E1 P (and PCOUT): from PREG, else from MREG through the post-adder, else from AREG/BREG through both.</summary>
    private static double? DspStart(Cell cell)
    {
        if (cell.Parameters.GetValueOrDefault("PREG") == 1) return Delays.DspClockToOut;
        if (cell.Parameters.GetValueOrDefault("MREG") == 1) return Delays.DspCombinational - Delays.DspMultiplyStage;
        if (cell.Parameters.GetValueOrDefault("AREG") >= 1 || cell.Parameters.GetValueOrDefault("BREG") >= 1) return Delays.DspCombinational;
        return null;
    }

    private static bool DspMultiplierInput(string port) => port is "A" or "B" or "D" or "ACIN" or "BCIN";

    /// <summary>
    /// A DSP48E1 input pin: its setup when it ends at a register (its own input register, MREG or PREG),
    /// or the delay to P when the block is combinational from it.
    /// </summary>
    private static (double Setup, double? Through) DspInput(Cell cell, string port)
    {
        long Reg(string name) => cell.Parameters.GetValueOrDefault(name);
        bool inputRegistered = port switch
        {
            "A" or "ACIN" => Reg("AREG") >= 1, "B" or "BCIN" => Reg("BREG") >= 1, "C" => Reg("CREG") == 1, "D" => Reg("DREG") == 1,
            "OPMODE" => Reg("OPMODEREG") == 1, "ALUMODE" => Reg("ALUMODEREG") == 1, "CARRYIN" => Reg("CARRYINREG") == 1,
            "INMODE" => Reg("INMODEREG") == 1, "CARRYINSEL" => Reg("CARRYINSELREG") == 1, _ => true,
        };
        if (inputRegistered) return (Delays.DspInputSetup, null);
        if (DspMultiplierInput(port))
        {
            if (Reg("MREG") == 1) return (Delays.DspMultiplyStage, null);
            if (Reg("PREG") == 1) return (Delays.DspMultiplyStage + Delays.DspAddStage, null);
            return (0, Delays.DspCombinational);
        }
        // C, PCIN, OPMODE, ALUMODE, carry: into the post-adder only.
        if (Reg("PREG") == 1) return (Delays.DspAddStage, null);
        return (0, Delays.DspCombinational - Delays.DspMultiplyStage);
    }

    /// <summary>No routing hop on the links that stay inside a slice or a cascade.</summary>
    private bool Dedicated(object bit, Cell load, string pin)
    {
        if (!_driver.TryGetValue(bit, out var d)) return false;
        string from = d.Cell.Type, to = load.Type, inPort = Port(pin);
        if (from == "CARRY4" && d.Port == "CO[3]" && to == "CARRY4" && inPort == "CI") return true;
        if (IsLut(from) && to == "CARRY4" && inPort == "S" && _loads[bit].Count == 1) return true;
        if ((IsLut(from) || from == "MUXF7") && to is "MUXF7" or "MUXF8" && inPort is "I0" or "I1") return true;
        if (from == "DSP48E1" && to == "DSP48E1" && inPort is "PCIN" or "ACIN" or "BCIN") return true;
        return false;
    }

    private double Hop(object bit, Cell load, string pin) => Dedicated(bit, load, pin) ? 0 : Delays.NetHop;

    /// <summary>Arrival time of a net bit (0 ns at the clock edge), memoized; null when no register drives it.</summary>
    private Arrival? ArrivalOf(object bit, HashSet<object> visiting)
    {
        if (_arrival.TryGetValue(bit, out var known)) return known.Time < 0 ? null : known;
        if (!_driver.TryGetValue(bit, out var driver)) { _arrival[bit] = new Arrival(-1, null, null, false); return null; }
        var cell = driver.Cell;
        Arrival best = new(-1, null, null, false);
        var start = ClockToOut(cell, driver.Port);
        if (start is double s) best = new Arrival(s, cell, null, true);
        if (!visiting.Add(bit)) throw new InvalidDataException($"combinational loop through {cell.Name} ({cell.Type})");
        foreach (var (inputBit, arc) in Arcs(cell, driver.Port))
        {
            var a = ArrivalOf(inputBit.Bit, visiting);
            if (a is null) continue;
            double t = a.Value.Time + Hop(inputBit.Bit, cell, inputBit.Pin) + arc;
            if (t > best.Time) best = new Arrival(t, cell, inputBit.Bit, false);
        }
        visiting.Remove(bit);
        _arrival[bit] = best;
        return best.Time < 0 ? null : best;
    }

    /// <summary>The combinational arcs into an output pin of a cell: (input bit and pin, delay).</summary>
    private IEnumerable<((object Bit, string Pin), double)> Arcs(Cell cell, string outputPin)
    {
        IEnumerable<(object Bit, string Pin)> Inputs(Func<string, bool> port) => cell.Connections
            .Where(c => cell.Directions[c.Key] == "input" && port(c.Key))
            .SelectMany(c => c.Value.Select((b, i) => (b, c.Value.Length == 1 && !IsBus(cell.Type, c.Key) ? c.Key : $"{c.Key}[{i}]")))
            .Where(x => x.b is long);
        if (IsLut(cell.Type))
            return Inputs(_ => true).Select(i => (i, Delays.Lut));
        if (cell.Type is "CARRY4" or "MUXF7" or "MUXF8")
            return Inputs(_ => true).Where(i => _arcs.ContainsKey((cell.Type, i.Pin, outputPin))).Select(i => (i, _arcs[(cell.Type, i.Pin, outputPin)]));
        if (IsLutRam(cell.Type))
            return Inputs(p => p.StartsWith("ADDR", StringComparison.Ordinal) || p.StartsWith("DPRA", StringComparison.Ordinal) || Regex.IsMatch(p, "^A[0-9]?$"))
                .Select(i => (i, Delays.LutRamRead));
        if (IsShiftRegister(cell.Type) && outputPin == "Q")
            return Inputs(p => Regex.IsMatch(p, "^A[0-9]?$")).Select(i => (i, Delays.LutRamRead));
        if (cell.Type == "DSP48E1")
            return Inputs(_ => true).Select(i => (i, DspInput(cell, Port(i.Pin)).Through)).Where(x => x.Through is not null).Select(x => (x.i, x.Through!.Value));
        return [];
    }

    /// <summary>Setup of a sequential input pin (an endpoint), or null when the pin is not timed against the clock.</summary>
    private static double? Setup(Cell cell, string pin)
    {
        string port = Port(pin);
        if (IsFlipFlop(cell.Type)) return port == "C" ? null : Delays.Setup;
        if (IsBlockRam(cell.Type)) return port.StartsWith("CLK", StringComparison.Ordinal) ? null : Delays.BlockRamSetup;
        if (IsLutRam(cell.Type) || IsShiftRegister(cell.Type)) return port is "WCLK" or "CLK" ? null : Delays.Setup;
        if (cell.Type == "DSP48E1")
        {
            if (port.StartsWith("CLK", StringComparison.Ordinal)) return null;
            var (setup, through) = DspInput(cell, port);
            return through is null ? setup : null;
        }
        return null;
    }

    private void Run()
    {
        var paths = new List<NetlistPath>();
        foreach (var cell in _cells)
            foreach (var (port, bits) in cell.Connections)
            {
                if (cell.Directions[port] != "input") continue;
                for (int i = 0; i < bits.Length; i++)
                {
                    if (bits[i] is not long) continue;
                    string pin = bits.Length == 1 && !IsBus(cell.Type, port) ? port : $"{port}[{i}]";
                    if (Setup(cell, pin) is not double setup) continue;
                    if (ArrivalOf(bits[i], []) is not Arrival a) continue;
                    double total = a.Time + Hop(bits[i], cell, pin) + setup;
                    paths.Add(Trace(bits[i], total, cell, pin));
                }
            }
        Paths = paths.OrderByDescending(p => p.Nanoseconds).ThenBy(p => string.Join(" ", p.Cells), StringComparer.Ordinal).ToList();
    }

    private NetlistPath Trace(object endBit, double total, Cell end, string pin)
    {
        var cells = new List<string> { $"{end.Type}.{pin}" };
        string? instance = Instance(end, endBit);
        object? bit = endBit;
        while (bit is not null && _arrival.TryGetValue(bit, out var a) && a.Through is Cell c)
        {
            cells.Add(string.Create(CultureInfo.InvariantCulture, $"{(a.Start ? $"{c.Type}(clk→{_driver[bit].Port})" : c.Type)} {a.Time:0.00}"));
            instance ??= Instance(c, bit);
            bit = a.Start ? null : a.From;
        }
        cells.Reverse();
        return new NetlistPath(total, cells, instance ?? "top");
    }

    /// <summary>The layer instance (u_…) a net belongs to, from the hierarchical names flattening kept.</summary>
    private string? Instance(Cell cell, object bit)
    {
        IEnumerable<object> Bits() => new[] { bit }.Concat(cell.Connections.Where(c => cell.Directions[c.Key] == "output").SelectMany(c => c.Value));
        foreach (var b in Bits())
            if (_names.TryGetValue(b, out var names))
                foreach (string n in names.OrderBy(n => n, StringComparer.Ordinal))
                {
                    var m = Regex.Match(n.TrimStart('\\'), @"^(u_[A-Za-z0-9_]+)\.");
                    if (m.Success) return m.Groups[1].Value;
                }
        return null;
    }
}

/// <summary>The timing model of a design next to the static timing of its netlist, layer by layer.</summary>
public static class TimingComparison
{
    public sealed record Row(string Layer, double ModelNs, double NetlistNs, string ModelPath, string NetlistPath)
    {
        /// <summary>Model − netlist, ns.</summary>
        public double Error => ModelNs - NetlistNs;
    }

    /// <summary>One row per hardware layer, the engine (instance u_engine) and the control (the sequencer, instance "top"), in design order.</summary>
    public static IReadOnlyList<Row> Rows(TransformerFpga.Hdl.HdlGenerator.Design design, NetlistTiming sta)
    {
        var model = DesignTiming.Of(design);
        var netlist = sta.WorstPerInstance;
        var rows = new List<Row>();
        foreach (var layer in model.Layers)
        {
            string instance = layer.Name == DesignTiming.ControlName ? "top"
                : layer.Name == ResourceModel.EngineRow ? TransformerFpga.Hdl.HdlGenerator.EngineLabel
                : TransformerFpga.Hdl.HdlGenerator.InstanceLabel(design.Layers.Single(l => l.Layer.Name == layer.Name));
            if (netlist.TryGetValue(instance, out var path))
                rows.Add(new Row(layer.Name, layer.Nanoseconds, path.Nanoseconds, layer.Description, string.Join(" → ", path.Cells)));
        }
        return rows;
    }

    public static string Table(string design, IReadOnlyList<Row> rows) =>
        string.Join("\n", rows.Select(r => string.Create(CultureInfo.InvariantCulture,
            $"| {design} | {r.Layer} | {r.ModelNs:0.00} | {r.NetlistNs:0.00} | {r.Error:+0.00;-0.00;0.00} |"))) + "\n";
}
