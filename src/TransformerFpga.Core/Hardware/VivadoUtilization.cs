using System.Globalization;
using TransformerFpga.Diagnostics;

namespace TransformerFpga.Hardware;

/// <summary>One row of Vivado's "Utilization by Hierarchy" table: an instance with everything below it.</summary>
/// <param name="Depth">0 for the top, 1 for its children, …; a "(name)" row is the parent's own logic.</param>
/// <param name="Line">1-based line in the report.</param>
public sealed record UtilizationRow(string Instance, string Module, int Depth, Resources Resources, int Line)
{
    /// <summary>Vivado's "(name)" row: the cells of the parent that sit in no child instance.</summary>
    public bool IsOwnLogic => Instance.StartsWith('(');
}

/// <summary>The table of a `report_utilization -hierarchical` report, rows in report order.</summary>
public sealed record HierarchicalUtilization(string File, IReadOnlyList<UtilizationRow> Rows)
{
    public UtilizationRow Top => Rows[0];
}

/// <summary>
/// Reads Vivado's `report_utilization -hierarchical` output. Columns are found by their header, as
/// their set and order differ between Vivado versions; rows are nested by two spaces of indentation per
/// level. Mapped to the product's categories like <see cref="YosysStatistics"/>: lut = all slice LUTs
/// (logic + memory), lutram = LUTs used as memory (LUTRAMs + SRLs), bram18 = RAMB18 + 2·RAMB36.
/// </summary>
public static class VivadoUtilization
{
    private const string TableTitle = "Utilization by Hierarchy";

    // Header names seen across Vivado versions, compared lower-case with single spaces.
    private static readonly string[] InstanceColumn = ["instance"];
    private static readonly string[] ModuleColumn = ["module"];
    private static readonly string[] TotalLutColumn = ["total luts", "slice luts", "luts"];
    private static readonly string[] LogicLutColumn = ["logic luts", "lut as logic", "luts as logic"];
    private static readonly string[] LutRamColumn = ["lutrams", "lutram", "lut as distributed ram"];
    private static readonly string[] SrlColumn = ["srls", "srl", "lut as shift register"];
    private static readonly string[] MemoryLutColumn = ["luts as memory", "lut as memory", "memory luts"];
    private static readonly string[] FfColumn = ["ffs", "ff", "slice registers", "registers", "flip flops"];
    private static readonly string[] Ramb36Column = ["ramb36", "ramb36e1", "ramb36/fifo"];
    private static readonly string[] Ramb18Column = ["ramb18", "ramb18e1"];
    private static readonly string[] BramTileColumn = ["block ram tile"];
    private static readonly string[] DspColumn = ["dsp48 blocks", "dsp blocks", "dsp48e1", "dsp48e1 blocks", "dsps", "dsp"];

    /// <summary>Reads and parses a report file; TFPGA040 when it cannot be read, TFPGA041 when it is not such a report.</summary>
    public static HierarchicalUtilization Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new FpgaException(ErrorCodes.CalibrationReportMissing, path,
                (File.Exists(path) ? "cannot read the Vivado utilization report: " + e.Message : "there is no Vivado utilization report at this path")
                + "; FpgaCalibrationReport names the file vivado/build.tcl writes as vivado-out/utilization_hierarchical.rpt (relative to the project folder)");
        }
        return Parse(text, path);
    }

    public static HierarchicalUtilization Parse(string text, string file)
    {
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r', ' ', '\t')).ToArray();
        int title = Array.FindIndex(lines, l => l.Contains(TableTitle, StringComparison.OrdinalIgnoreCase));
        int header = -1;
        for (int i = Math.Max(0, title); i < lines.Length && header < 0; i++)
            if (IsTableLine(lines[i], '|') && Cells(lines[i]).Select(Normalize).ToHashSet().IsSupersetOf(["instance", "module"]))
                header = i;
        if (header < 0)
        {
            string hint = text.Contains("Slice Logic", StringComparison.OrdinalIgnoreCase)
                ? " (this is a flat report, by site type (\"Slice Logic\") instead of by instance, whatever its file name: it comes from"
                  + " report_utilization without -hierarchical; use the utilization_hierarchical.rpt that vivado/build.tcl writes)" : "";
            throw new FpgaException(ErrorCodes.CalibrationReportMalformed, file, title < 0 ? 0 : title + 1,
                $"not a Vivado `report_utilization -hierarchical` report: no \"{TableTitle}\" table with Instance and Module columns{hint}");
        }

        var headerCells = Cells(lines[header]);
        var names = headerCells.Select(Normalize).ToList();
        int Find(string[] aliases) => names.FindIndex(aliases.Contains);
        int instance = Find(InstanceColumn), module = Find(ModuleColumn);
        int totalLut = Find(TotalLutColumn), logicLut = Find(LogicLutColumn), lutRam = Find(LutRamColumn), srl = Find(SrlColumn), memoryLut = Find(MemoryLutColumn);
        int ff = Find(FfColumn), ramb36 = Find(Ramb36Column), ramb18 = Find(Ramb18Column), bramTile = Find(BramTileColumn), dsp = Find(DspColumn);
        bool hasMemory = lutRam >= 0 || srl >= 0 || memoryLut >= 0;
        var missing = new List<string>();
        if (totalLut < 0 && (logicLut < 0 || !hasMemory)) missing.Add("Total LUTs");
        if (!hasMemory) missing.Add("LUTRAMs/SRLs (or LUTs as Memory)");
        if (ff < 0) missing.Add("FFs");
        if (ramb36 < 0 && ramb18 < 0 && bramTile < 0) missing.Add("RAMB36/RAMB18");
        if (dsp < 0) missing.Add("DSP48 Blocks (or DSP Blocks)");
        if (missing.Count > 0)
            throw new FpgaException(ErrorCodes.CalibrationReportMalformed, file, header + 1,
                $"the utilization table has no {string.Join(", ", missing)} column (columns: {string.Join(", ", headerCells.Select(c => c.Trim()))})");

        var rows = new List<UtilizationRow>();
        int baseIndent = -1;
        for (int i = header + 1; i < lines.Length; i++)
        {
            string line = lines[i];
            if (IsTableLine(line, '+')) continue;
            if (!IsTableLine(line, '|')) break;
            var cells = Cells(line);
            if (cells.Count != names.Count)
                throw Malformed(file, i, $"a row of the utilization table has {cells.Count} cells; the header has {names.Count}");
            string rawInstance = cells[instance];
            int indent = rawInstance.Length - rawInstance.TrimStart(' ').Length;
            if (baseIndent < 0) baseIndent = indent;
            if (indent < baseIndent || (indent - baseIndent) % 2 != 0 || rawInstance.Trim().Length == 0)
                throw Malformed(file, i, $"the instance '{rawInstance.Trim()}' is not indented by two spaces per level");
            double Value(int column)
            {
                if (column < 0) return 0;
                string cell = cells[column].Trim();
                if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v) || v < 0)
                    throw Malformed(file, i, $"'{cell}' in column {names[column]} of '{rawInstance.Trim()}' is not a count");
                return v;
            }
            double memory = lutRam >= 0 || srl >= 0 ? Value(lutRam) + Value(srl) : Value(memoryLut);
            double luts = totalLut >= 0 ? Value(totalLut) : Value(logicLut) + memory;
            double bram18 = ramb36 >= 0 || ramb18 >= 0 ? 2 * Value(ramb36) + Value(ramb18) : 2 * Value(bramTile);
            var resources = new Resources(Count(luts), Count(memory), Count(Value(ff)), Count(bram18), Count(Value(dsp)));
            rows.Add(new UtilizationRow(rawInstance.Trim(), cells[module].Trim(), (indent - baseIndent) / 2, resources, i + 1));
        }
        if (rows.Count == 0)
            throw Malformed(file, header, "the utilization table has no rows");
        for (int r = 1; r < rows.Count; r++)
        {
            if (rows[r].Depth == 0)
                throw Malformed(file, rows[r].Line - 1, $"the utilization table has two top-level instances ('{rows[0].Instance}', '{rows[r].Instance}')");
            if (rows[r].Depth > rows[r - 1].Depth + 1)
                throw Malformed(file, rows[r].Line - 1, $"'{rows[r].Instance}' is indented two levels below the row above it");
        }
        return new HierarchicalUtilization(file, rows);
    }

    private static FpgaException Malformed(string file, int lineIndex, string message) =>
        new(ErrorCodes.CalibrationReportMalformed, file, lineIndex + 1, message);

    private static int Count(double value) => (int)Math.Round(value, MidpointRounding.AwayFromZero);

    private static bool IsTableLine(string line, char first) => line.Length > 1 && line[0] == first;

    /// <summary>The cells between the outer bars, untrimmed (the instance cell's indentation is its depth).</summary>
    private static List<string> Cells(string line)
    {
        var parts = line.Split('|');
        return parts.Length < 3 ? [] : parts[1..^1].Select(p => p.StartsWith(' ') ? p[1..] : p).ToList();
    }

    private static string Normalize(string cell) => string.Join(' ', cell.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant();
}
