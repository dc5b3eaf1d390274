using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace TransformerFpga.Hdl;

/// <summary>
/// A VHDL template embedded in the assembly (a real .vhd file beside the C# class of its layer kind).
/// The generator changes a template only by renaming its entity, setting port widths inside the
/// <c>-- tfpga:ports-begin/end</c> region and replacing the contents of marked regions
/// (<c>-- tfpga:&lt;name&gt;-begin</c> … <c>-- tfpga:&lt;name&gt;-end</c>) with constant declarations.
/// </summary>
public sealed class VhdlTemplate
{
    private string _text;

    private VhdlTemplate(string fileName, string text)
    {
        FileName = fileName;
        _text = text.Replace("\r\n", "\n");
    }

    public string FileName { get; }

    /// <summary>The names of all embedded templates (file names).</summary>
    public static IReadOnlyList<string> Names =>
        typeof(VhdlTemplate).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal))
            .Select(n => n[Prefix.Length..]).OrderBy(n => n, StringComparer.Ordinal).ToList();

    private const string Prefix = "TransformerFpga.Templates.";

    public static VhdlTemplate Load(string fileName)
    {
        Assembly assembly = typeof(VhdlTemplate).Assembly;
        using var stream = assembly.GetManifestResourceStream(Prefix + fileName)
            ?? throw new InvalidOperationException("VHDL template '" + fileName + "' is not embedded in " + assembly.GetName().Name);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return new VhdlTemplate(fileName, reader.ReadToEnd());
    }

    /// <summary>Replaces the identifier <paramref name="from"/> (whole word, case-insensitive) by <paramref name="to"/>.</summary>
    public VhdlTemplate Rename(string from, string to)
    {
        _text = Regex.Replace(_text, @"(?<![A-Za-z0-9_])" + Regex.Escape(from) + @"(?![A-Za-z0-9_])", to,
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        return this;
    }

    /// <summary>One compiled pattern per port name: building a Regex costs more than applying it, and the exploration generates thousands of modules.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Regex> PortPatterns = new(StringComparer.Ordinal);

    /// <summary>Sets the width of a port declared in the ports region: "(n downto 0)" becomes "(width-1 downto 0)".</summary>
    public VhdlTemplate SetPortWidth(string port, int width)
    {
        if (width < 1) throw new ArgumentOutOfRangeException(nameof(width));
        var (start, end) = Region("ports");
        string region = _text[start..end];
        var pattern = PortPatterns.GetOrAdd(port, p => new Regex(@"^(\s*" + Regex.Escape(p) + @"\s*:[^(\n]*\()\d+( downto 0\))", RegexOptions.Multiline | RegexOptions.IgnoreCase | RegexOptions.CultureInvariant));
        if (!pattern.IsMatch(region)) throw new InvalidOperationException($"template {FileName} has no sized port '{port}'");
        region = pattern.Replace(region, m => m.Groups[1].Value + (width - 1).ToString(System.Globalization.CultureInfo.InvariantCulture) + m.Groups[2].Value, 1);
        _text = _text[..start] + region + _text[end..];
        return this;
    }

    /// <summary>Replaces the lines between the region's begin and end markers.</summary>
    public VhdlTemplate SetRegion(string name, IEnumerable<string> lines)
    {
        var (start, end) = Region(name);
        string indent = Indent(name);
        var body = new StringBuilder();
        foreach (string line in lines)
            body.Append(line.Length == 0 ? "" : indent + line).Append('\n');
        _text = _text[..start] + body + _text[end..];
        return this;
    }

    public bool HasRegion(string name) => _text.Contains("-- tfpga:" + name + "-begin", StringComparison.Ordinal);

    public override string ToString() => _text;

    /// <summary>[start of the line after the begin marker, start of the end marker's line).</summary>
    private (int Start, int End) Region(string name)
    {
        string begin = "-- tfpga:" + name + "-begin", endMarker = "-- tfpga:" + name + "-end";
        int b = _text.IndexOf(begin, StringComparison.Ordinal);
        int e = _text.IndexOf(endMarker, StringComparison.Ordinal);
        if (b < 0 || e < b) throw new InvalidOperationException($"template {FileName} has no region '{name}'");
        int start = _text.IndexOf('\n', b) + 1;
        int end = _text.LastIndexOf('\n', e) + 1;
        return (start, end);
    }

    private string Indent(string name)
    {
        string begin = "-- tfpga:" + name + "-begin";
        int b = _text.IndexOf(begin, StringComparison.Ordinal);
        int lineStart = _text.LastIndexOf('\n', b) + 1;
        return _text[lineStart..b];
    }
}
