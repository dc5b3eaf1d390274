using System.Globalization;

namespace TransformerFpga.Reports;

/// <summary>Number formats the reports share (invariant culture).</summary>
public static class Formats
{
    /// <summary>
    /// `+12.3 %`, `-0.4 %`, and `0.0 %` for zero. The zero section matters: without it .NET writes a negative value that
    /// rounds to zero with the positive section behind a minus sign (`-+0.0 %`).
    /// </summary>
    public static string SignedPercent(double value) => value.ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) + " %";
}
