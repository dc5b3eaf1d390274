using System.Text.Json;
using System.Text.RegularExpressions;

namespace TransformerFpga.Hardware;

/// <summary>
/// Splits the cells of a flattened Yosys netlist (write_json after synth_xilinx -flatten) among the instances of
/// the top (u_&lt;layer&gt;, b_&lt;buffer&gt;[_k], the top itself), so that the resource fit can learn per module what
/// flattening changes: Yosys then merges registers and turns register chains that cross a module boundary
/// (a buffer's read register → the consumer's input and operand registers) into SRL shift registers.
/// A cell belongs to the instance that names the net it drives — an internal name first, else the instance whose
/// output port it is (ports from the GHDL Verilog); cells driving only unnamed nets take the instance of the
/// cells they drive, then of the cells driving them.
/// </summary>
public static class FlatNetlist
{
    public const string TopInstance = "(top)";

    private static readonly Regex ModuleHeader = new(@"^module\s+(\w+)", RegexOptions.Multiline | RegexOptions.CultureInvariant);
    private static readonly Regex OutputPort = new(@"^\s*[\(,]?\s*output\s+(?:\[[^\]]*\]\s*)?(\w+)", RegexOptions.Multiline | RegexOptions.CultureInvariant);
    private static readonly Regex AnyPort = new(@"^\s*[\(,]?\s*(?:input|output)\s+(?:\[[^\]]*\]\s*)?(\w+)", RegexOptions.Multiline | RegexOptions.CultureInvariant);
    private static readonly Regex Instantiation = new(@"^\s+(\w+)\s+(\w+)\s*\(\s*$", RegexOptions.Multiline | RegexOptions.CultureInvariant);

    private sealed record Cell(string Type, long[] Outputs, long[] Inputs);

    /// <summary>Cell counts per instance label, read from <paramref name="netlistJson"/> and the design's GHDL Verilog.</summary>
    public static Dictionary<string, Dictionary<string, int>> CellsByInstance(string netlistJson, string verilog, string top)
    {
        var (ports, outputs) = Ports(verilog, top);
        using var document = JsonDocument.Parse(File.ReadAllBytes(netlistJson), new JsonDocumentOptions { MaxDepth = 256 });
        var module = document.RootElement.GetProperty("modules").GetProperty(top);

        // Rank 2: a name inside the instance; rank 1: one of its output ports (the driver sits inside it).
        var owner = new Dictionary<long, (string Instance, int Rank)>();
        foreach (var net in module.GetProperty("netnames").EnumerateObject())
        {
            if (net.Value.TryGetProperty("hide_name", out var hide) && hide.GetInt32() == 1) continue;
            int dot = net.Name.IndexOf('.', StringComparison.Ordinal);
            if (dot <= 0) continue;
            string instance = net.Name[..dot], local = net.Name[(dot + 1)..];
            if (!ports.TryGetValue(instance, out var instancePorts)) continue;
            int rank = !instancePorts.Contains(local) ? 2 : outputs[instance].Contains(local) ? 1 : 0;
            if (rank == 0) continue;
            foreach (var bit in net.Value.GetProperty("bits").EnumerateArray())
                if (bit.ValueKind == JsonValueKind.Number && (!owner.TryGetValue(bit.GetInt64(), out var existing) || rank > existing.Rank))
                    owner[bit.GetInt64()] = (instance, rank);
        }

        var cells = new List<Cell>();
        foreach (var c in module.GetProperty("cells").EnumerateObject())
        {
            var directions = c.Value.GetProperty("port_directions");
            var outs = new List<long>();
            var ins = new List<long>();
            foreach (var p in c.Value.GetProperty("connections").EnumerateObject())
            {
                bool isOutput = directions.GetProperty(p.Name).GetString() == "output";
                foreach (var bit in p.Value.EnumerateArray())
                    if (bit.ValueKind == JsonValueKind.Number) (isOutput ? outs : ins).Add(bit.GetInt64());
            }
            cells.Add(new Cell(c.Value.GetProperty("type").GetString()!, outs.ToArray(), ins.ToArray()));
        }

        var instanceOf = new string?[cells.Count];
        for (int i = 0; i < cells.Count; i++)
            foreach (long b in cells[i].Outputs)
                if (owner.TryGetValue(b, out var o)) { instanceOf[i] = o.Instance; break; }

        // Unnamed outputs: the instance of the cells they drive, then of the cells that drive them.
        var (driverOf, loadsOf) = Connections(cells.Select(c => (c.Outputs, c.Inputs)).ToList());
        for (int round = 0; round < 8; round++)
        {
            bool changed = false;
            for (int i = 0; i < cells.Count; i++)
            {
                if (instanceOf[i] is not null) continue;
                var votes = cells[i].Outputs.SelectMany(b => loadsOf.GetValueOrDefault(b) ?? []).Select(j => instanceOf[j]).Where(x => x is not null).ToList();
                if (votes.Count == 0)
                    votes = cells[i].Inputs.Where(driverOf.ContainsKey).Select(b => instanceOf[driverOf[b]]).Where(x => x is not null).ToList();
                if (votes.Count == 0) continue;
                instanceOf[i] = votes.GroupBy(v => v).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;
                changed = true;
            }
            if (!changed) break;
        }

        var result = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        for (int i = 0; i < cells.Count; i++)
        {
            var counts = result.TryGetValue(instanceOf[i] ?? TopInstance, out var c) ? c : result[instanceOf[i] ?? TopInstance] = new Dictionary<string, int>(StringComparer.Ordinal);
            counts[cells[i].Type] = counts.GetValueOrDefault(cells[i].Type) + 1;
        }
        return result;
    }

    /// <summary>Per instance of the top: its port names and its output port names.</summary>
    private static (Dictionary<string, HashSet<string>> Ports, Dictionary<string, HashSet<string>> Outputs) Ports(string verilog, string top)
    {
        var text = File.ReadAllText(verilog);
        var headers = ModuleHeader.Matches(text).Cast<Match>().ToList();
        var modulePorts = new Dictionary<string, (HashSet<string> All, HashSet<string> Out)>(StringComparer.Ordinal);
        string topBody = "";
        for (int i = 0; i < headers.Count; i++)
        {
            int end = i + 1 < headers.Count ? headers[i + 1].Index : text.Length;
            string body = text[headers[i].Index..end];
            string head = body[..Math.Max(0, body.IndexOf(");", StringComparison.Ordinal) + 2)];
            modulePorts[headers[i].Groups[1].Value] = (AnyPort.Matches(head).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal),
                OutputPort.Matches(head).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal));
            if (headers[i].Groups[1].Value == top) topBody = body;
        }
        var ports = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var outputs = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (Match m in Instantiation.Matches(topBody))
            if (modulePorts.TryGetValue(m.Groups[1].Value, out var p))
            {
                ports[m.Groups[2].Value] = p.All;
                outputs[m.Groups[2].Value] = p.Out;
            }
        return (ports, outputs);
    }

    /// <summary>Of a netlist's cells (their output and input bits): the cell that drives each bit, and the cells each bit feeds.</summary>
    internal static (Dictionary<long, int> DriverOf, Dictionary<long, List<int>> LoadsOf) Connections(IReadOnlyList<(long[] Outputs, long[] Inputs)> cells)
    {
        var driverOf = new Dictionary<long, int>();
        var loadsOf = new Dictionary<long, List<int>>();
        for (int i = 0; i < cells.Count; i++)
        {
            foreach (long b in cells[i].Outputs) driverOf[b] = i;
            foreach (long b in cells[i].Inputs) (loadsOf.TryGetValue(b, out var l) ? l : loadsOf[b] = []).Add(i);
        }
        return (driverOf, loadsOf);
    }
}
