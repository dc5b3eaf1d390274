using System.Globalization;
using System.Text.RegularExpressions;
using TransformerFpga.Diagnostics;

namespace TransformerFpga.Hardware;

/// <summary>One row of report_power's "By Hierarchy" table (dynamic power of an instance and everything below it, W).</summary>
/// <param name="Depth">0 for the top, 1 for its children, …</param>
public sealed record PowerHierarchyRow(string Instance, int Depth, double Watts, int Line);

/// <summary>
/// What a Vivado `report_power` text says: the summary's total, dynamic and device static power (W), the
/// top-level rows of "1.1 On-Chip Components" (Clocks, Slice Logic, Signals, Block RAM, DSPs, I/O, …; empty when
/// the section is missing) and the "By Hierarchy" rows (empty when missing).
/// </summary>
public sealed record PowerReport(
    string File, string? Design, string? Device, double TotalWatts, double DynamicWatts, double StaticWatts,
    IReadOnlyDictionary<string, double> Components, IReadOnlyList<PowerHierarchyRow> Hierarchy)
{
    /// <summary>The report's on-chip components the power model has, in mW; null when the report has no component table.</summary>
    public PowerComponents? ModelledComponents
    {
        get
        {
            if (Components.Count == 0) return null;
            double W(params string[] names) => names.Sum(n => Components.TryGetValue(n, out double v) ? v : 0) * 1000;
            return new PowerComponents(W("clocks"), W("slice logic", "signals"), W("block ram"), W("dsps", "dsp"));
        }
    }

    /// <summary>
    /// Reads a report_power text file. TFPGA044 when it cannot be read, TFPGA045 when it is not such a report or its
    /// summary lacks Total On-Chip Power, Dynamic or Device Static.
    /// </summary>
    public static PowerReport Load(string path)
    {
        string text;
        try
        {
            text = System.IO.File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new FpgaException(ErrorCodes.PowerReportMissing, path,
                (System.IO.File.Exists(path) ? "cannot read the Vivado power report: " + e.Message : "there is no Vivado power report at this path")
                + "; FpgaPowerReport names the file vivado/build.tcl writes as vivado-out/power.rpt (relative to the project folder)");
        }
        return Parse(text, path);
    }

    private static readonly Regex HeaderField = new(@"^\|\s*(?<key>[A-Za-z ]+?)\s*:\s*(?<value>.*?)\s*$", RegexOptions.CultureInvariant);

    public static PowerReport Parse(string text, string file)
    {
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r', ' ', '\t')).ToArray();
        string? Header(string key) => lines.Select(l => HeaderField.Match(l)).Where(m => m.Success && m.Groups["key"].Value.Equals(key, StringComparison.OrdinalIgnoreCase))
            .Select(m => m.Groups["value"].Value).FirstOrDefault(v => v.Length > 0);

        // The summary table: two columns, a label and a value; labels as Vivado prints them.
        var summary = new Dictionary<string, (string Value, int Line)>(StringComparer.Ordinal);
        for (int i = 0; i < lines.Length; i++)
        {
            var cells = Cells(lines[i]);
            if (cells.Count == 2 && Normalize(cells[0]).EndsWith("(w)", StringComparison.Ordinal))
                summary.TryAdd(Normalize(cells[0]), (cells[1].Trim(), i));
        }
        if (!summary.ContainsKey("total on-chip power (w)"))
        {
            string hint = text.Contains("Utilization by Hierarchy", StringComparison.OrdinalIgnoreCase) || text.Contains("Utilization Design Information", StringComparison.OrdinalIgnoreCase)
                ? " (this looks like a utilization report; FpgaCalibrationReport takes that one)" : "";
            throw new FpgaException(ErrorCodes.PowerReportMalformed, file, 0,
                $"not a Vivado `report_power` report: no \"Total On-Chip Power (W)\" in a Summary table{hint}");
        }
        double Summary(string label)
        {
            if (!summary.TryGetValue(Normalize(label), out var cell))
                throw new FpgaException(ErrorCodes.PowerReportMalformed, file, 0, $"the power report's Summary table has no \"{label}\" row");
            return Watts(cell.Value, file, cell.Line, label);
        }
        double total = Summary("Total On-Chip Power (W)"), dynamic = Summary("Dynamic (W)"), deviceStatic = Summary("Device Static (W)");

        var components = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var row in Table(lines, file, "On-Chip Components", "on-chip"))
            if (row.Depth == 0 && row.Name is not ("static power" or "total"))
                components[row.Name] = row.Watts;

        var hierarchy = Table(lines, file, "By Hierarchy", "name")
            .Select(r => new PowerHierarchyRow(r.RawName, r.Depth, r.Watts, r.Line + 1)).ToList();
        for (int r = 1; r < hierarchy.Count; r++)
            if (hierarchy[r].Depth == 0 || hierarchy[r].Depth > hierarchy[r - 1].Depth + 1)
                throw new FpgaException(ErrorCodes.PowerReportMalformed, file, hierarchy[r].Line, $"'{hierarchy[r].Instance}' is not nested by two spaces per level below the top");

        return new PowerReport(file, Header("Design"), Header("Device"), total, dynamic, deviceStatic, components, hierarchy);
    }

    /// <summary>The rows of the table that follows the section title: (lower-case name, name, depth, W, 0-based line).</summary>
    private static List<(string Name, string RawName, int Depth, double Watts, int Line)> Table(string[] lines, string file, string title, string firstColumn)
    {
        var rows = new List<(string, string, int, double, int)>();
        // A section title is numbered and underlined with dashes (the table of contents lists the same titles, not underlined).
        int start = Array.FindIndex(lines, 0, Math.Max(0, lines.Length - 1), l => l.Length > 0 && char.IsDigit(l[0]) && l.EndsWith(title, StringComparison.OrdinalIgnoreCase));
        while (start >= 0 && !lines[start + 1].StartsWith("---", StringComparison.Ordinal))
            start = start + 1 < lines.Length - 1
                ? Array.FindIndex(lines, start + 1, lines.Length - 1 - (start + 1), l => l.Length > 0 && char.IsDigit(l[0]) && l.EndsWith(title, StringComparison.OrdinalIgnoreCase))
                : -1;
        if (start < 0) return rows;
        int header = -1;
        for (int i = start + 1; i < lines.Length && header < 0; i++)
        {
            var cells = Cells(lines[i]).Select(Normalize).ToList();
            if (cells.Count > 0 && cells[0] == firstColumn && cells.Contains("power (w)")) header = i;
            else if (lines[i].Length > 0 && char.IsDigit(lines[i][0])) break; // the next section: this one has no table
        }
        if (header < 0)
            throw new FpgaException(ErrorCodes.PowerReportMalformed, file, start + 1, $"the \"{title}\" section has no table with a Power (W) column");
        int power = Cells(lines[header]).Select(Normalize).ToList().IndexOf("power (w)");
        int baseIndent = -1;
        for (int i = header + 1; i < lines.Length; i++)
        {
            if (lines[i].StartsWith('+')) continue;
            if (!lines[i].StartsWith('|')) break;
            var cells = Cells(lines[i]);
            if (cells.Count <= power)
                throw new FpgaException(ErrorCodes.PowerReportMalformed, file, i + 1, $"a row of the \"{title}\" table has {cells.Count} cells; its header has more");
            string raw = cells[0];
            int indent = raw.Length - raw.TrimStart(' ').Length;
            if (baseIndent < 0) baseIndent = indent;
            string name = raw.Trim();
            if (name.Length == 0 || indent < baseIndent || (indent - baseIndent) % 2 != 0)
                throw new FpgaException(ErrorCodes.PowerReportMalformed, file, i + 1, $"the row '{name}' of the \"{title}\" table is not indented by two spaces per level");
            rows.Add((name.ToLowerInvariant(), name, (indent - baseIndent) / 2, Watts(cells[power].Trim(), file, i, name), i));
        }
        return rows;
    }

    /// <summary>A power cell in W; Vivado prints "&lt;0.001" below its resolution, read as half of it.</summary>
    private static double Watts(string cell, string file, int lineIndex, string what)
    {
        string value = cell.TrimEnd('*').Trim();
        if (value.StartsWith('<') && double.TryParse(value[1..], NumberStyles.Float, CultureInfo.InvariantCulture, out double below) && below > 0)
            return below / 2;
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double w) && double.IsFinite(w) && w >= 0)
            return w;
        throw new FpgaException(ErrorCodes.PowerReportMalformed, file, lineIndex + 1, $"'{cell}' of {what} is not a power in W");
    }

    /// <summary>The cells between the outer bars, the leading space removed (the first cell's indentation is its depth).</summary>
    private static List<string> Cells(string line)
    {
        if (line.Length < 2 || line[0] != '|') return [];
        var parts = line.Split('|');
        return parts.Length < 3 ? [] : parts[1..^1].Select(p => p.StartsWith(' ') ? p[1..] : p).ToList();
    }

    private static string Normalize(string cell) => string.Join(' ', cell.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant();
}
