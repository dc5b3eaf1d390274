using System.Globalization;
using System.Text.RegularExpressions;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Hardware;

/// <summary>
/// A ROM of a generated entity: entries × bits, how many of its bit columns vary over the entries (synthesis
/// removes the constant ones before it maps the ROM), and the memory the project chose for it (its rom_style;
/// Auto = synthesis' cost rule).
/// </summary>
public readonly record struct RomShape(string Name, int Depth, int Width, int VaryingWidth, BufferResource Style = BufferResource.Auto)
{
    public long Bits => (long)Depth * Width;
}

/// <summary>
/// What the resource model reads from one generated entity: its constants, ROMs, port widths and
/// multiplier mapping, parsed from the marked regions the generator filled. The estimate therefore follows
/// the structure actually emitted, not a second description of it.
/// </summary>
public sealed class VhdlModule
{
    private static readonly Regex Entity = new(@"^entity\s+(\w+)\s+is", RegexOptions.Multiline | RegexOptions.CultureInvariant);
    private static readonly Regex NumberConstant = new(@"constant\s+(\w+)\s*:\s*(?:positive|natural|integer)\s*:=\s*(\d+)\s*;", RegexOptions.CultureInvariant);
    private static readonly Regex BooleanConstant = new(@"constant\s+(\w+)\s*:\s*boolean\s*:=\s*(true|false)\s*;", RegexOptions.CultureInvariant);
    private static readonly Regex RomConstant = new(@"(?:constant|signal)\s+(\w+)\s*:\s*\w+\s*:=\s*\(", RegexOptions.CultureInvariant);
    private static readonly Regex RomStyle = new(@"attribute\s+rom_style\s+of\s+(\w+)\s*:\s*signal\s+is\s+""(\w+)""\s*;", RegexOptions.CultureInvariant);
    private static readonly Regex Port = new(@"^\s*(\w+)\s*:\s*(?:in|out)\s+(?:signed|unsigned|std_logic_vector)\((\d+) downto 0\)", RegexOptions.Multiline | RegexOptions.CultureInvariant);
    private static readonly Regex BitsConstant = new(@"constant\s+(\w+)\s*:\s*(?:signed|unsigned)\([^)]*\)\s*:=\s*""([01]+)""\s*;", RegexOptions.CultureInvariant);

    private VhdlModule(string entity, Dictionary<string, long> constants, List<RomShape> roms, Dictionary<string, int> ports,
        Dictionary<string, long> bitConstants, bool lutMultipliers)
    {
        _bitConstants = bitConstants;
        UsesLutMultipliers = lutMultipliers;
        EntityName = entity;
        Constants = constants;
        Roms = roms;
        Ports = ports;
    }

    private readonly Dictionary<string, long> _bitConstants;

    public string EntityName { get; }
    /// <summary>True when the MAC products are built from LUTs (the adder tree of tfpga_pkg) rather than DSPs.</summary>
    public bool UsesLutMultipliers { get; }

    /// <summary>A signed bit-string constant of the constants region (M0, MA, MB) as a number.</summary>
    public long Constant(string name) => _bitConstants.TryGetValue(name, out long v) ? v : throw new KeyNotFoundException($"{EntityName} has no constant {name}");
    public IReadOnlyDictionary<string, long> Constants { get; }
    public IReadOnlyList<RomShape> Roms { get; }
    public IReadOnlyDictionary<string, int> Ports { get; }

    public long this[string constant] => Constants.TryGetValue(constant, out long v) ? v : throw new KeyNotFoundException($"{EntityName} has no constant {constant}");
    public long Get(string constant, long fallback) => Constants.TryGetValue(constant, out long v) ? v : fallback;
    public int PortWidth(string port, int fallback = 0) => Ports.TryGetValue(port, out int w) ? w : fallback;
    public long RomBits => Roms.Sum(r => r.Bits);

    public static VhdlModule Parse(string text)
    {
        string entity = Entity.Match(text) is { Success: true } e ? e.Groups[1].Value : "";
        var constants = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);
        string constantRegion = Region(text, "constants");
        foreach (Match m in NumberConstant.Matches(constantRegion))
            constants[m.Groups[1].Value] = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        foreach (Match m in BooleanConstant.Matches(constantRegion))
            constants[m.Groups[1].Value] = m.Groups[2].Value == "true" ? 1 : 0;
        var roms = new List<RomShape>();
        string romRegion = Region(text, "rom");
        var starts = RomConstant.Matches(romRegion).Cast<Match>().ToList();
        var styles = RomStyle.Matches(romRegion).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value == Hdl.HdlGenerator.RamStyle(BufferResource.Block)
            ? BufferResource.Block : BufferResource.Distributed, StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < starts.Count; i++)
        {
            int from = starts[i].Index, to = i + 1 < starts.Count ? starts[i + 1].Index : romRegion.Length;
            string name = starts[i].Groups[1].Value;
            string body = romRegion[from..to];
            int depth = Regex.Matches(body, "=>").Count;
            var words = Regex.Matches(body, "\"([01]+)\"").Select(w => w.Groups[1].Value).ToList();
            int width = words.Count > 0 ? words[0].Length : 0;
            int varying = Enumerable.Range(0, width).Count(bit => words.Any(w => w[bit] != words[0][bit]));
            roms.Add(new RomShape(name, depth, width, varying, styles.GetValueOrDefault(name, BufferResource.Auto)));
        }
        var ports = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (Match m in Port.Matches(Region(text, "ports")))
            ports[m.Groups[1].Value] = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) + 1;
        var bitConstants = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);
        foreach (Match m in BitsConstant.Matches(constantRegion))
        {
            string bits = m.Groups[2].Value;
            long value = 0;
            foreach (char c in bits) value = value * 2 + (c - '0');
            if (bits.Length < 64 && bits[0] == '1') value -= 1L << bits.Length; // two's complement
            bitConstants[m.Groups[1].Value] = value;
        }
        // The templates with products select their mapping with LUT_MUL.
        string multiplier = Region(text, "multiplier");
        bool lutMultipliers = multiplier.Contains(Hdl.Multipliers.LutMultiplierConstant(true), StringComparison.Ordinal);
        return new VhdlModule(entity, constants, roms, ports, bitConstants, lutMultipliers);
    }

    private static string Region(string text, string name)
    {
        int start = text.IndexOf("-- tfpga:" + name + "-begin", StringComparison.Ordinal);
        int end = text.IndexOf("-- tfpga:" + name + "-end", StringComparison.Ordinal);
        return start >= 0 && end > start ? text[start..end] : "";
    }
}
