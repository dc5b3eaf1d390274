using System.Globalization;
using System.Text;
using TransformerFpga.Hardware;
using TransformerFpga.Hdl;
using TransformerFpga.Integer;
using TransformerFpga.Pipeline;
using TransformerFpga.Reports;

namespace TransformerFpga.TestSupport;

/// <summary>Column sets of `report_utilization -hierarchical` in different Vivado versions and families.</summary>
public enum ReportLayout
{
    /// <summary>Vivado 2020+ on 7-series: Total LUTs, Logic LUTs, LUTRAMs, SRLs, FFs, RAMB36, RAMB18, DSP48 Blocks.</summary>
    Vivado2020,
    /// <summary>Older: one "LUTs as Memory" column, no Logic LUTs, other column order, "DSP Blocks".</summary>
    LutsAsMemory,
    /// <summary>UltraScale: an extra URAM column and "DSP Blocks".</summary>
    UltraScale,
}

/// <summary>One row of the hierarchy table.</summary>
public sealed record ReportRow(string Instance, string Module, int Depth, Resources Resources);

/// <summary>
/// Writes hierarchical utilization reports in Vivado's exact table format for the design a build
/// generates, with each module's numbers chosen by the test (e.g. a known transformation of the estimate).
/// </summary>
public static class VivadoReports
{
    /// <summary>The design a build of <paramref name="request"/> generates (the pipeline's steps) and its modules.</summary>
    public static (HdlGenerator.Design Design, IReadOnlyList<DesignModule> Modules) DesignOf(BuildRequest request)
    {
        var inputs = ProjectInputs.Resolve(request);
        var model = new ModelEvaluation(inputs.Config, inputs.Weights).Quantize(inputs.Plan.Bits);
        var outputs = new OutputWriter();
        var design = HdlGenerator.Generate(model, inputs.Plan, inputs.TopName, [], outputs);
        return (design, ResourceModel.Modules(design, file => outputs.Text("hdl/" + file)));
    }

    /// <summary>
    /// The rows of a design whose modules measure <paramref name="measure"/> (all instances of a module together).
    /// The top's share goes partly to its read multiplexers (m_…) and the rest to its own "(top)" row; the first
    /// layer gets two nested rows, as Vivado shows sub-hierarchy.
    /// </summary>
    public static List<ReportRow> Rows(HdlGenerator.Design design, IReadOnlyList<DesignModule> modules, Func<DesignModule, Resources> measure)
    {
        var children = new List<ReportRow>();
        foreach (var buffer in design.Buffers)
        {
            var module = modules.Single(m => m.Entity == buffer.Entity);
            var r = measure(module);
            var labels = HdlGenerator.InstanceLabels(buffer);
            var each = new Resources(r.Lut / labels.Count, r.LutRam / labels.Count, r.Ff / labels.Count, r.Bram18 / labels.Count, r.Dsp / labels.Count);
            foreach (string label in labels) children.Add(new ReportRow(label, buffer.Entity, 1, each));
        }
        foreach (var layer in design.Layers)
        {
            var r = measure(modules.Single(m => m.Entity == layer.Entity));
            string label = HdlGenerator.InstanceLabel(layer);
            children.Add(new ReportRow(label, layer.Entity, 1, r));
            if (layer.Step == 0)
            {
                var half = new Resources(r.Lut / 2, r.LutRam / 2, r.Ff / 2, r.Bram18 / 2, r.Dsp / 2);
                children.Add(new ReportRow("(" + label + ")", layer.Entity, 2, half));
                children.Add(new ReportRow("mac", layer.Entity + "_mac", 2, r - half));
            }
        }
        var own = measure(modules.Single(m => m.Kind == ModuleKind.Top));
        var readers = design.Layers.SelectMany(l => l.Sources).GroupBy(b => b).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        int muxLuts = readers.Count == 0 ? 0 : Math.Min(3, own.Lut / (2 * readers.Count));
        var mux = new Resources(muxLuts, 0, 0, 0, 0);
        var self = own with { Lut = own.Lut - muxLuts * readers.Count };
        var rows = new List<ReportRow> { new("(" + design.Top + ")", "(top)", 1, self) };
        rows.AddRange(children);
        for (int i = 0; i < readers.Count; i++)
            rows.Add(new ReportRow(HdlGenerator.MuxLabel(readers[i]), "tfpga_rdmux__parameterized" + i.ToString(CultureInfo.InvariantCulture), 1, mux));
        var total = rows.Where(r => r.Depth == 1).Aggregate(new Resources(), (s, r) => s + r.Resources);
        rows.Insert(0, new ReportRow(design.Top, "(top)", 0, total));
        return rows;
    }

    /// <summary>The whole report file: Vivado's header block, the table of contents and the hierarchy table.</summary>
    public static string Format(IReadOnlyList<ReportRow> rows, ReportLayout layout, string newLine = "\n")
    {
        static string N(int v) => v.ToString(CultureInfo.InvariantCulture);
        // LUT RAM split into LUTRAMs and SRLs; logic = total − memory.
        static int Srl(Resources r) => r.LutRam / 3;
        var columns = new List<(string Header, Func<ReportRow, string> Cell)>
        {
            ("Instance", r => new string(' ', 2 * r.Depth) + r.Instance),
            ("Module", r => r.Module),
        };
        switch (layout)
        {
            case ReportLayout.LutsAsMemory:
                columns.AddRange([
                    ("FFs", r => N(r.Resources.Ff)),
                    ("Total LUTs", r => N(r.Resources.Lut)),
                    ("LUTs as Memory", r => N(r.Resources.LutRam)),
                    ("RAMB18", r => N(r.Resources.Bram18 % 2)),
                    ("RAMB36", r => N(r.Resources.Bram18 / 2)),
                    ("DSP Blocks", r => N(r.Resources.Dsp)),
                ]);
                break;
            default:
                columns.AddRange([
                    ("Total LUTs", r => N(r.Resources.Lut)),
                    ("Logic LUTs", r => N(r.Resources.Lut - r.Resources.LutRam)),
                    ("LUTRAMs", r => N(r.Resources.LutRam - Srl(r.Resources))),
                    ("SRLs", r => N(Srl(r.Resources))),
                    ("FFs", r => N(r.Resources.Ff)),
                    ("RAMB36", r => N(r.Resources.Bram18 / 2)),
                    ("RAMB18", r => N(r.Resources.Bram18 % 2)),
                ]);
                if (layout == ReportLayout.UltraScale) columns.Add(("URAM", _ => "0"));
                columns.Add((layout == ReportLayout.UltraScale ? "DSP Blocks" : "DSP48 Blocks", r => N(r.Resources.Dsp)));
                break;
        }
        var widths = columns.Select(c => Math.Max(c.Header.Length, rows.Max(r => c.Cell(r).Length))).ToList();
        string border = "+" + string.Join("+", widths.Select(w => new string('-', w + 2))) + "+";
        string Line(Func<int, string> cell) => "|" + string.Join("|", widths.Select((_, i) => " " + cell(i) + " ")) + "|";
        string Center(string s, int w) => s.PadLeft((w + s.Length) / 2).PadRight(w);

        string top = rows[0].Instance;
        var lines = new List<string>
        {
            "Copyright 1986-2020 Xilinx, Inc. All Rights Reserved.",
            "-----------------------------------------------------------------------------------------------------------------------------",
            "| Tool Version : Vivado v.2020.2 (lin64) Build 3064766 Wed Nov 18 09:12:47 MST 2020",
            "| Date         : Tue Mar  4 10:12:01 2025",
            "| Host         : build running 64-bit Ubuntu 20.04.6 LTS",
            "| Command      : report_utilization -hierarchical -file /home/user/hw/vivado-out/utilization_hierarchical.rpt",
            $"| Design       : {top}",
            "| Device       : 7s15ftgb196-1",
            "| Design State : Routed",
            "-----------------------------------------------------------------------------------------------------------------------------",
            "",
            "Utilization Design Information",
            "",
            "Table of Contents",
            "-----------------",
            "1. Utilization by Hierarchy",
            "",
            "1. Utilization by Hierarchy",
            "---------------------------",
            "",
            border,
            Line(i => Center(columns[i].Header, widths[i])),
            border,
        };
        foreach (var row in rows)
            lines.Add(Line(i => i == 0 ? columns[i].Cell(row).PadRight(widths[i]) : columns[i].Cell(row).PadLeft(widths[i])));
        lines.Add(border);
        // Vivado's footnote under the hierarchy table.
        lines.Add("* Note: The sum of lower-level cells may be larger than their parent cells total, due to cross-hierarchy LUT combining");
        lines.Add("");
        lines.Add("");
        return string.Join(newLine, lines) + newLine;
    }

    /// <summary><paramref name="estimate"/> with LUT and FF scaled per module kind (rounded), LUT RAM, RAMB18 and DSP as they are.</summary>
    public static Resources Scaled(Resources estimate, double lut, double ff) =>
        estimate with { Lut = (int)Math.Round(estimate.Lut * lut), Ff = (int)Math.Round(estimate.Ff * ff) };

    public static string WriteFile(string path, string text)
    {
        File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }
}
