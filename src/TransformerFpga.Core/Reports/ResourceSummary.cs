using System.Globalization;
using System.Security;
using System.Text;
using TransformerFpga.Hardware;

namespace TransformerFpga.Reports;

/// <summary>
/// report/summary.md (a table per layer) and report/resources.svg (one bar per resource as % of the
/// device, stacked by layer). The SVG is written by hand: the .NET plotting libraries served here
/// (ScottPlot, Svg) need native SkiaSharp or System.Drawing, which an MSBuild task cannot rely on.
/// </summary>
public static class ResourceSummary
{
    private static readonly IReadOnlyList<string> Resources = Hardware.Resources.Names;
    /// <summary>
    /// A colour of its own for the k-th layer: hues a golden angle apart (neighbours far apart on the colour wheel,
    /// never the same hue twice), lightness cycling over three levels to separate hues that come close.
    /// </summary>
    public static string LayerColour(int k) => string.Create(CultureInfo.InvariantCulture,
        $"hsl({k * 137.508 % 360:0.#},{65 - k % 2 * 15}%,{42 + k % 3 * 12}%)");

    private static string F(double v, string format = "0.#") => v.ToString(format, CultureInfo.InvariantCulture);

    /// <param name="appendix">Markdown added after the table (the calibration section), or null.</param>
    /// <param name="cautions">Lines that qualify the fit (resources within the estimate's error of the limit), or null.</param>
    public static string Markdown(DesignEstimate design, string simulationLine, string? appendix = null, IReadOnlyList<string>? cautions = null)
    {
        var t = design.Total;
        var c = design.Device.Capacity;
        var md = new StringBuilder();
        md.Append("# ").Append(design.Top).Append(" on ").Append(design.Part).Append("\n\n");
        string budget = design.LimitPercent >= 100 ? " the part" : " the budget (" + F(design.LimitPercent) + " % of the part)";
        md.Append(design.Fits ? "Fits" : "Does not fit").Append(budget).Append(cautions is { Count: > 0 } ? ", by the estimate:" : ".").Append('\n');
        foreach (string caution in cautions ?? []) md.Append("- ").Append(caution).Append('\n');
        md.Append('\n');
        md.Append(design.SummaryLine()).Append("\n\n").Append(simulationLine).Append("\n\n");
        md.Append(string.Create(CultureInfo.InvariantCulture,
            $"Timing: Fmax {F(design.Timing.FmaxMHz)} MHz, critical layer {design.Timing.Critical.Name} ({F(design.Timing.Critical.Nanoseconds, "0.00")} ns: {design.Timing.Critical.Description}).\n\n"));
        md.Append("![resources per layer](resources.svg)\n\n");
        md.Append("| layer | bits (w/a) | lanes | multipliers | buffer | ROM | LUT | LUTRAM | FF | BRAM18 | DSP | cycles | Fmax MHz |\n");
        md.Append("|---|---|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var l in design.Layers)
            md.Append(string.Create(CultureInfo.InvariantCulture,
                $"| {l.Name} | {l.WeightBits}/{l.ActivationBits} | {l.Lanes} | {l.Multiplier ?? "–"} | {l.BufferResource} | {l.Rom ?? "–"} | {l.Resources.Lut:N0} | {l.Resources.LutRam:N0} | {l.Resources.Ff:N0} | {l.Resources.Bram18} | {l.Resources.Dsp} | {l.Cycles:N0} | {(design.LayerFmax(l.Name) is double f ? F(f) : "")} |\n"));
        md.Append(string.Create(CultureInfo.InvariantCulture,
            $"| **total** | | | | | | {t.Lut:N0} | {t.LutRam:N0} | {t.Ff:N0} | {t.Bram18} | {t.Dsp} | {design.LatencyCycles:N0} | {F(design.Timing.FmaxMHz)} |\n"));
        md.Append(string.Create(CultureInfo.InvariantCulture,
            $"| **device** | | | | | | {c.Lut:N0} | {c.LutRam:N0} | {c.Ff:N0} | {c.Bram18} | {c.Dsp} | | |\n"));
        foreach (var shared in design.Layers.Where(l => l.RunsOn is not null).GroupBy(l => l.RunsOn!))
            md.Append('\n').Append(string.Join(", ", shared.Select(l => l.Name))).Append(shared.Count() == 1 ? " runs" : " run")
                .Append(" on the instance of ").Append(shared.Key).Append(" (a job each; its row holds the instance, theirs their buffers).\n");
        if (appendix is not null) md.Append('\n').Append(appendix);
        return md.ToString();
    }

    /// <summary>Horizontal bars, one per resource, each the layers' shares stacked; the 100 % line marks the device.</summary>
    public static string Svg(DesignEstimate design)
    {
        const int left = 70, barHeight = 22, gap = 12, top = 30, width = 520;
        var capacity = design.Device.Capacity;
        double maxPercent = Math.Max(100, Resources.Max(r => 100.0 * design.Total[r] / Math.Max(1, capacity[r])));
        double scale = width / maxPercent;
        var layers = design.Layers.Where(l => Resources.Any(r => l.Resources[r] > 0)).ToList();
        int legendTop = top + Resources.Count * (barHeight + gap) + 20;
        int height = legendTop + (layers.Count + 1) / 2 * 16 + 10;
        var svg = new StringBuilder();
        svg.Append(string.Create(CultureInfo.InvariantCulture,
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{left + width + 60}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"11\">\n"));
        svg.Append(string.Create(CultureInfo.InvariantCulture, $"<text x=\"{left}\" y=\"18\" font-size=\"13\">{SecurityElement.Escape(design.Top)} on {SecurityElement.Escape(design.Part)}: share of the device per resource, by layer</text>\n"));
        for (int i = 0; i < Resources.Count; i++)
        {
            string resource = Resources[i];
            int y = top + i * (barHeight + gap);
            int available = Math.Max(1, capacity[resource]);
            svg.Append(string.Create(CultureInfo.InvariantCulture, $"<text x=\"{left - 6}\" y=\"{y + 15}\" text-anchor=\"end\">{resource}</text>\n"));
            double x = left;
            for (int k = 0; k < layers.Count; k++)
            {
                double w = 100.0 * layers[k].Resources[resource] / available * scale;
                if (w <= 0) continue;
                svg.Append(string.Create(CultureInfo.InvariantCulture,
                    $"<rect x=\"{F(x, "0.##")}\" y=\"{y}\" width=\"{F(w, "0.##")}\" height=\"{barHeight}\" fill=\"{LayerColour(k)}\"><title>{SecurityElement.Escape(layers[k].Name)}: {layers[k].Resources[resource]}</title></rect>\n"));
                x += w;
            }
            double percent = 100.0 * design.Total[resource] / available;
            svg.Append(string.Create(CultureInfo.InvariantCulture, $"<text x=\"{F(x + 4, "0.##")}\" y=\"{y + 15}\">{F(percent, "0")} %</text>\n"));
        }
        double limitX = left + 100 * scale;
        svg.Append(string.Create(CultureInfo.InvariantCulture,
            $"<line x1=\"{F(limitX, "0.##")}\" y1=\"{top - 4}\" x2=\"{F(limitX, "0.##")}\" y2=\"{legendTop - 14}\" stroke=\"#000\" stroke-dasharray=\"4 3\"/>\n"));
        for (int k = 0; k < layers.Count; k++)
        {
            int lx = left + k % 2 * 260, ly = legendTop + k / 2 * 16;
            svg.Append(string.Create(CultureInfo.InvariantCulture,
                $"<rect x=\"{lx}\" y=\"{ly - 9}\" width=\"10\" height=\"10\" fill=\"{LayerColour(k)}\"/><text x=\"{lx + 14}\" y=\"{ly}\">{SecurityElement.Escape(layers[k].Name)}</text>\n"));
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }
}
