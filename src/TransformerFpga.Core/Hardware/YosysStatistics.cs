using System.Globalization;
using System.Text.RegularExpressions;

namespace TransformerFpga.Hardware;

/// <summary>
/// Reads the cell counts of `stat -tech xilinx` from a Yosys log, per module and for the whole
/// design, and maps them to Vivado's utilization categories: slice LUTs = LUT1–6 + INV + LUTs used as
/// memory (RAM64M/RAM32M = 4, RAM64X1D/RAM32X1D = 2, RAM64X1S/RAM32X1S/SRL16E/SRLC32E = 1),
/// registers = FDRE/FDSE/FDCE/FDPE, RAMB18 = RAMB18E1 + 2·RAMB36E1, DSP = DSP48E1.
/// </summary>
public static class YosysStatistics
{
    public const string DesignTotal = "design hierarchy";

    private static readonly Regex Header = new(@"^=== (.+) ===\s*$", RegexOptions.CultureInvariant);
    private static readonly Regex Cell = new(@"^\s+([A-Z][A-Z0-9_]*)\s+(\d+)\s*$", RegexOptions.CultureInvariant);

    /// <summary>Resources per module name, plus <see cref="DesignTotal"/> for the whole hierarchy. The last `stat` in the log wins.</summary>
    public static Dictionary<string, Resources> Parse(string log) =>
        ParseCells(log).ToDictionary(kv => kv.Key, kv => ToResources(kv.Value), StringComparer.Ordinal);

    /// <summary>The cell counts by type per module name (and <see cref="DesignTotal"/>) of the last `stat` in the log.</summary>
    public static Dictionary<string, Dictionary<string, int>> ParseCells(string log)
    {
        var cells = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        Dictionary<string, int>? current = null;
        foreach (string line in log.Split('\n'))
        {
            var header = Header.Match(line);
            if (header.Success)
            {
                current = cells[header.Groups[1].Value.Trim()] = new Dictionary<string, int>(StringComparer.Ordinal);
                continue;
            }
            var cell = Cell.Match(line);
            if (cell.Success && current is not null)
                current[cell.Groups[1].Value] = int.Parse(cell.Groups[2].Value, CultureInfo.InvariantCulture);
        }
        return cells;
    }

    public static Resources ToResources(IReadOnlyDictionary<string, int> cells)
    {
        int Get(string name) => cells.TryGetValue(name, out int n) ? n : 0;
        int lutRam = 4 * (Get("RAM64M") + Get("RAM32M")) + 2 * (Get("RAM64X1D") + Get("RAM32X1D") + Get("RAM128X1D"))
            + Get("RAM64X1S") + Get("RAM32X1S") + Get("SRL16E") + Get("SRLC32E");
        int logic = Get("LUT1") + Get("LUT2") + Get("LUT3") + Get("LUT4") + Get("LUT5") + Get("LUT6") + Get("INV");
        return new Resources(logic + lutRam, lutRam, Get("FDRE") + Get("FDSE") + Get("FDCE") + Get("FDPE"),
            Get("RAMB18E1") + 2 * Get("RAMB36E1"), Get("DSP48E1"));
    }
}
