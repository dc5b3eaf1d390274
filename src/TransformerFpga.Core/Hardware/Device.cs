using System.Text.RegularExpressions;
using TransformerFpga.Diagnostics;

namespace TransformerFpga.Hardware;

/// <summary>Resources of one FPGA resource class: slice LUTs, LUTs usable as memory, flip-flops, RAMB18 halves, DSP48E1.</summary>
public readonly record struct Resources(int Lut, int LutRam, int Ff, int Bram18, int Dsp)
{
    public static Resources operator +(Resources a, Resources b) => new(a.Lut + b.Lut, a.LutRam + b.LutRam, a.Ff + b.Ff, a.Bram18 + b.Bram18, a.Dsp + b.Dsp);

    public static Resources operator -(Resources a, Resources b) => new(a.Lut - b.Lut, a.LutRam - b.LutRam, a.Ff - b.Ff, a.Bram18 - b.Bram18, a.Dsp - b.Dsp);

    public static Resources operator *(Resources a, int n) => new(a.Lut * n, a.LutRam * n, a.Ff * n, a.Bram18 * n, a.Dsp * n);

    /// <summary>The resource names used in diagnostics and reports, in report order.</summary>
    public static readonly IReadOnlyList<string> Names = ["LUT", "LUTRAM", "FF", "BRAM18", "DSP"];

    /// <summary>Writes "lut", "lutram", "ff", "bram18", "dsp" (the report key names) into the current JSON object.</summary>
    public void WriteFields(System.Text.Json.Utf8JsonWriter json)
    {
        foreach (string name in Names) json.WriteNumber(name.ToLowerInvariant(), this[name]);
    }

    /// <summary>Writes the resources as a JSON object named <paramref name="property"/>.</summary>
    public void WriteObject(System.Text.Json.Utf8JsonWriter json, string property)
    {
        json.WriteStartObject(property);
        WriteFields(json);
        json.WriteEndObject();
    }

    public int this[string name] => name switch
    {
        "LUT" => Lut, "LUTRAM" => LutRam, "FF" => Ff, "BRAM18" => Bram18, "DSP" => Dsp,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };
}

/// <summary>A 7-series device from the Spartan-7 (DS180) and Artix-7 (DS181) datasheets.</summary>
public sealed record Device(string Name, Resources Capacity, string[] Packages)
{
    /// <summary>
    /// Area as a weighted share of the device: LUTs, flip-flops, RAMB18 and DSPs each as a fraction of the
    /// device's, summed (LUT RAM is part of the LUTs). × the LUT capacity it is a LUT-equivalent area.
    /// </summary>
    public double AreaFraction(Resources r)
    {
        var c = Capacity;
        static double Share(int used, int capacity) => capacity == 0 ? 0 : (double)used / capacity;
        return Share(r.Lut, c.Lut) + Share(r.Ff, c.Ff) + Share(r.Bram18, c.Bram18) + Share(r.Dsp, c.Dsp);
    }

    public double LutEquivalent(Resources r) => AreaFraction(r) * Capacity.Lut;

    // LUTRAM = distributed RAM Kb × 1024 / 64 bits per LUT; RAMB18 = 2 × 36 Kb blocks.
    public static readonly IReadOnlyList<Device> All =
    [
        new("xc7s6", new(3_750, 1_120, 7_500, 10, 10), ["cpga196", "csga225", "ftgb196"]),
        new("xc7s15", new(8_000, 2_400, 16_000, 20, 20), ["cpga196", "csga225", "ftgb196"]),
        new("xc7s25", new(14_600, 5_008, 29_200, 90, 80), ["csga225", "csga324", "ftgb196"]),
        new("xc7s50", new(32_600, 9_600, 65_200, 150, 120), ["csga324", "ftgb196", "fgga484"]),
        new("xc7s75", new(48_000, 13_312, 96_000, 180, 140), ["fgga484", "fgga676"]),
        new("xc7s100", new(64_000, 17_600, 128_000, 240, 160), ["fgga484", "fgga676"]),
        new("xc7a12t", new(8_000, 2_736, 16_000, 40, 40), ["cpg238", "csg325"]),
        new("xc7a15t", new(10_400, 3_200, 20_800, 50, 45), ["cpg236", "csg324", "csg325", "ftg256", "fgg484"]),
        new("xc7a35t", new(20_800, 6_400, 41_600, 100, 90), ["cpg236", "csg324", "csg325", "ftg256", "fgg484"]),
        new("xc7a50t", new(32_600, 9_600, 65_200, 150, 120), ["cpg236", "csg324", "csg325", "ftg256", "fgg484"]),
        new("xc7a75t", new(47_200, 14_272, 94_400, 210, 180), ["csg324", "ftg256", "fgg484", "fgg676"]),
        new("xc7a100t", new(63_400, 19_008, 126_800, 270, 240), ["csg324", "ftg256", "fgg484", "fgg676"]),
    ];

    private static readonly Regex PartPattern = new(@"^(?<device>xc7[sa]\d+t?)(?<package>[a-z]+\d+)-(?<speed>1|2|3|1l|2l|1q|2q|1i|2i|1la|2la|1lq)$", RegexOptions.CultureInvariant);

    /// <summary>Finds the device of a part string such as xc7s15ftgb196-1 (case-insensitive).</summary>
    public static Device FromPart(string part, string? projectFile)
    {
        var m = PartPattern.Match(part.Trim().ToLowerInvariant());
        var device = m.Success ? All.FirstOrDefault(d => d.Name == m.Groups["device"].Value) : null;
        if (device is null || !device.Packages.Contains(m.Groups["package"].Value))
            throw new FpgaException(ErrorCodes.UnknownPart, projectFile,
                $"FpgaPart '{part}' is not a known part{Suggestions.DidYouMean(part.Trim(), KnownParts(part))}; known parts are {string.Join(", ", All.SelectMany(d => d.Packages.Select(p => d.Name + p + "-1")))} (speed grades -1, -2, -1L, …)");
        return device;
    }

    /// <summary>Every device and package with the speed grade the user typed (-1 when it is not one), for "did you mean".</summary>
    private static IEnumerable<string> KnownParts(string typed)
    {
        var speed = SpeedGrade.Match(typed.Trim().ToLowerInvariant());
        string suffix = speed.Success ? speed.Value : "-1";
        return All.SelectMany(d => d.Packages.Select(p => d.Name + p + suffix));
    }

    private static readonly Regex SpeedGrade = new(@"-(?:1|2|3|1l|2l|1q|2q|1i|2i|1la|2la|1lq)$", RegexOptions.CultureInvariant);
}
