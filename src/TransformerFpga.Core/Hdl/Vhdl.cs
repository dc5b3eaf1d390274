using System.Globalization;
using System.Text;
using TransformerFpga.Quantization;

namespace TransformerFpga.Hdl;

/// <summary>VHDL naming and constant formatting. Wide constants are bit-string literals, never VHDL integers.</summary>
public static class Vhdl
{
    private static readonly HashSet<string> Keywords = new(StringComparer.OrdinalIgnoreCase)
    {
        "abs", "access", "after", "alias", "all", "and", "architecture", "array", "assert", "assume", "attribute",
        "begin", "block", "body", "buffer", "bus", "case", "component", "configuration", "constant", "context",
        "cover", "default", "disconnect", "downto", "else", "elsif", "end", "entity", "exit", "fairness", "file",
        "for", "force", "function", "generate", "generic", "group", "guarded", "if", "impure", "in", "inertial",
        "inout", "is", "label", "library", "linkage", "literal", "loop", "map", "mod", "nand", "new", "next", "nor",
        "not", "null", "of", "on", "open", "or", "others", "out", "package", "parameter", "port", "postponed",
        "procedure", "process", "property", "protected", "pure", "range", "record", "register", "reject", "release",
        "rem", "report", "restrict", "return", "rol", "ror", "select", "sequence", "severity", "shared", "signal",
        "sla", "sll", "sra", "srl", "strong", "subtype", "then", "to", "transport", "type", "unaffected", "units",
        "until", "use", "variable", "vmode", "vprop", "vunit", "wait", "when", "while", "with", "xnor", "xor",
        // Verilog keywords too, since the Yosys flow goes through Verilog
        "module", "endmodule", "input", "output", "wire", "reg", "always", "assign", "initial", "integer",
    };

    /// <summary>
    /// A legal VHDL basic identifier from user text: lower case letters, digits and single underscores,
    /// starting with a letter, not ending with an underscore, not a keyword.
    /// </summary>
    public static string Identifier(string raw, string fallback = "top")
    {
        var b = new StringBuilder();
        foreach (char ch in raw.Trim().ToLowerInvariant())
        {
            bool ok = ch is >= 'a' and <= 'z' or >= '0' and <= '9';
            if (ok) b.Append(ch);
            else if (b.Length > 0 && b[^1] != '_') b.Append('_');
        }
        string s = b.ToString().Trim('_');
        if (s.Length == 0) s = fallback;
        if (!char.IsAsciiLetter(s[0])) s = "m_" + s;
        if (Keywords.Contains(s)) s += "_0";
        if (s.Length > MaxIdentifierLength)
        {
            // Keep names (and the file names made from them) short; a hash of the full name keeps them distinct.
            uint hash = 2166136261;
            foreach (char ch in raw) hash = (hash ^ ch) * 16777619;
            s = s[..(MaxIdentifierLength - 9)].TrimEnd('_') + "_" + hash.ToString("x8", CultureInfo.InvariantCulture);
        }
        return s;
    }

    /// <summary>Longest identifier produced; entity and file names add a layer name and a suffix to it.</summary>
    public const int MaxIdentifierLength = 40;

    /// <summary>The top entity's name: a legal identifier that cannot collide with the fixed files (tfpga_*, tb_*).</summary>
    public static string TopIdentifier(string raw)
    {
        string s = Identifier(raw);
        return s.StartsWith("tfpga", StringComparison.Ordinal) || s.StartsWith("tb_", StringComparison.Ordinal) ? "top_" + s : s;
    }

    /// <summary>Address width of a memory of <paramref name="depth"/> words (at least 1).</summary>
    public static int AddressBits(long depth) => Math.Max(1, IntegerMath.BitLength(depth - 1));

    /// <summary>Signed width that holds every value in [-bound, bound], at least 2.</summary>
    public static int SignedWidth(long bound) => Math.Max(2, IntegerMath.SignedBits(Math.Abs(bound)));

    public static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A two's complement bit-string literal of the given width.</summary>
    public static string Bits(long value, int width)
    {
        if (width < 1 || width > 64) throw new ArgumentOutOfRangeException(nameof(width));
        if (width < 64)
        {
            long min = -(1L << (width - 1)), max = (1L << (width - 1)) - 1;
            if (value < min || value > max) throw new ArgumentOutOfRangeException(nameof(value), $"{value} does not fit {width} signed bits");
        }
        var chars = new char[width + 2];
        chars[0] = '"';
        chars[^1] = '"';
        for (int i = 0; i < width; i++) chars[width - i] = ((value >> Math.Min(i, 63)) & 1) != 0 ? '1' : '0';
        return new string(chars);
    }

    /// <summary>An unsigned bit-string literal of the given width.</summary>
    public static string UnsignedBits(long value, int width)
    {
        if (value < 0 || (width < 63 && value >= 1L << width)) throw new ArgumentOutOfRangeException(nameof(value));
        return Bits(value, width + 1)[..1] + Bits(value, width + 1)[2..];
    }

    public static string Constant(string name, string type, string value) => $"constant {name} : {type} := {value};";

    public static string Natural(string name, long value) => Constant(name, "natural", Int(value));

    public static string Positive(string name, long value) => Constant(name, "positive", Int(value));

    /// <summary>An aggregate with named association (valid for one element too), wrapped every few items.</summary>
    public static string Aggregate(IEnumerable<string> items, string indent = "  ", int perLine = 8) => Aggregate(items, indent, perLine, 0, "");

    /// <summary>An aggregate padded with <paramref name="pad"/> to at least <paramref name="minCount"/> entries (ROMs are at least 2 deep: GHDL's synthesis mishandles 1-entry memories).</summary>
    public static string Aggregate(IEnumerable<string> items, string indent, int perLine, int minCount, string pad)
    {
        var list = items.ToList();
        while (list.Count < minCount) list.Add(pad);
        var b = new StringBuilder("(");
        int i = 0;
        foreach (string item in list)
        {
            if (i > 0) b.Append(i % perLine == 0 ? ",\n" + indent : ", ");
            b.Append(Int(i)).Append(" => ").Append(item);
            i++;
        }
        return b.Append(')').ToString();
    }

    /// <summary>Splits a multi-line declaration into the lines a region takes.</summary>
    public static IEnumerable<string> Lines(params string[] declarations) => declarations.SelectMany(d => d.Split('\n'));
}
