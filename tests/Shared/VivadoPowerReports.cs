using System.Globalization;
using System.Text;
using TransformerFpga.Hdl;
using TransformerFpga.Pipeline;

namespace TransformerFpga.TestSupport;

/// <summary>Vivado `report_power` texts in the tool's exact format, with the power of each part chosen by the test.</summary>
public static class VivadoPowerReports
{
    private static string W(double watts) => watts < 0.001 ? "<0.001" : watts.ToString("0.000", CultureInfo.InvariantCulture);

    /// <summary>
    /// A `report_power` of a routed design as Vivado 2022.2 prints it. Components in W: clocks, slice logic (with
    /// nested rows), signals, block RAM, DSPs, I/O. Sections can be left out to test that they are optional.
    /// </summary>
    public static string Text(string top, string part, double clocks, double sliceLogic, double signals, double bram, double dsp, double io,
        double deviceStatic, IReadOnlyList<(string Instance, double Watts)> children, bool components = true, bool supplies = true, bool hierarchy = true)
    {
        double dynamic = clocks + sliceLogic + signals + bram + dsp + io;
        string Row(string a, string b) => $"| {a,-24} | {b,-12} |\n";
        string Component(string name, string watts, string used, string available, string utilization) =>
            $"| {name,-14} | {watts,9} | {used,8} | {available,9} | {utilization,15} |\n";
        var r = new StringBuilder();
        r.Append("Copyright 1986-2022 Xilinx, Inc. All Rights Reserved.\n");
        r.Append("-------------------------------------------------------------------------------------------------------------------------------------\n");
        r.Append("| Tool Version     : Vivado v.2022.2 (lin64) Build 3671981 Fri Oct 14 04:59:54 MDT 2022\n");
        r.Append("| Date             : Mon Nov 30 12:00:00 2026\n");
        r.Append("| Host             : build running 64-bit Ubuntu 22.04.3 LTS\n");
        r.Append("| Command          : report_power -hierarchical_depth 2 -file /tmp/out/vivado-out/power.rpt\n");
        r.Append($"| Design           : {top}\n");
        r.Append($"| Device           : {part}\n");
        r.Append("| Design State     : routed\n| Grade            : commercial\n| Process          : typical\n| Characterization : Production\n");
        r.Append("-------------------------------------------------------------------------------------------------------------------------------------\n\n");
        r.Append("Power Report\n\nTable of Contents\n-----------------\n1. Summary\n1.1 On-Chip Components\n1.2 Power Supply Summary\n1.3 Confidence Level\n");
        r.Append("2. Settings\n2.1 Environment\n2.2 Clock Constraints\n3. Detailed Reports\n3.1 By Hierarchy\n\n");
        r.Append("1. Summary\n----------\n\n+--------------------------+--------------+\n");
        r.Append(Row("Total On-Chip Power (W)", W(dynamic + deviceStatic)));
        r.Append(Row("Design Power Budget (W)", "Unspecified*"));
        r.Append(Row("Power Budget Margin (W)", "NA"));
        r.Append(Row("Dynamic (W)", W(dynamic)));
        r.Append(Row("Device Static (W)", W(deviceStatic)));
        r.Append(Row("Effective TJA (C/W)", "4.9"));
        r.Append(Row("Max Ambient (C)", "84.8"));
        r.Append(Row("Junction Temperature (C)", "25.2"));
        r.Append(Row("Confidence Level", "Low"));
        r.Append(Row("Setting File", "---"));
        r.Append(Row("Simulation Activity File", "---"));
        r.Append(Row("Design Nets Matched", "NA"));
        r.Append("+--------------------------+--------------+\n");
        r.Append("* Specify Design Power Budget using, set_operating_conditions -design_power_budget <value in Watts>\n\n\n");
        if (components)
        {
            string border = "+----------------+-----------+----------+-----------+-----------------+\n";
            r.Append("1.1 On-Chip Components\n----------------------\n\n").Append(border);
            r.Append(Component("On-Chip", "Power (W)", "Used", "Available", "Utilization (%)")).Append(border);
            r.Append(Component("Clocks", W(clocks), "1", "---", "---"));
            r.Append(Component("Slice Logic", W(sliceLogic), "1469", "---", "---"));
            r.Append(Component("  LUT as Logic", W(sliceLogic * 0.7), "589", "8000", "7.36"));
            r.Append(Component("  Register", W(sliceLogic * 0.2), "652", "16000", "4.08"));
            r.Append(Component("  CARRY4", W(sliceLogic * 0.1), "34", "2000", "1.70"));
            r.Append(Component("Signals", W(signals), "1190", "---", "---"));
            r.Append(Component("Block RAM", W(bram), "2.5", "10", "25.00"));
            r.Append(Component("DSPs", W(dsp), "4", "20", "20.00"));
            r.Append(Component("I/O", W(io), "43", "100", "43.00"));
            r.Append(Component("Static Power", W(deviceStatic), "", "", ""));
            r.Append(Component("Total", W(dynamic + deviceStatic), "", "", "")).Append(border).Append("\n\n");
        }
        if (supplies)
        {
            r.Append("1.2 Power Supply Summary\n------------------------\n\n");
            r.Append("+-----------+-------------+-----------+-------------+------------+-------------+-------------+------------+\n");
            r.Append("| Source    | Voltage (V) | Total (A) | Dynamic (A) | Static (A) | Powerup (A) | Budget (A)  | Margin (A) |\n");
            r.Append("+-----------+-------------+-----------+-------------+------------+-------------+-------------+------------+\n");
            r.Append("| Vccint    |       1.000 |     0.012 |       0.008 |      0.004 |       NA    | Unspecified | NA         |\n");
            r.Append("| Vccaux    |       1.800 |     0.004 |       0.000 |      0.004 |       NA    | Unspecified | NA         |\n");
            r.Append("+-----------+-------------+-----------+-------------+------------+-------------+-------------+------------+\n\n\n");
        }
        r.Append("1.3 Confidence Level\n--------------------\n\n+-----------------------------+------------+------------------------------------------------+\n");
        r.Append("| User Input Data             | Confidence | Details                                        |\n");
        r.Append("+-----------------------------+------------+------------------------------------------------+\n");
        r.Append("| Design implementation state | High       | Design is routed                               |\n");
        r.Append("+-----------------------------+------------+------------------------------------------------+\n\n\n");
        r.Append("2. Settings\n-----------\n\n2.1 Environment\n---------------\n\n+-----------------------+--------------------------+\n");
        r.Append("| Ambient Temp (C)      | 25.0                     |\n+-----------------------+--------------------------+\n\n\n");
        if (hierarchy)
        {
            int width = Math.Max(top.Length, children.Max(c => c.Instance.Length + 2));
            string border = "+-" + new string('-', width) + "-+-----------+\n";
            r.Append("3. Detailed Reports\n-------------------\n\n3.1 By Hierarchy\n----------------\n\n").Append(border);
            r.Append($"| {"Name".PadRight(width)} | Power (W) |\n").Append(border);
            r.Append($"| {top.PadRight(width)} | {W(dynamic),9} |\n");
            foreach (var (instance, watts) in children) r.Append($"| {("  " + instance).PadRight(width)} | {W(watts),9} |\n");
            r.Append(border).Append("\n\n");
        }
        return r.ToString();
    }

    /// <summary>The hierarchy rows of the design a build of <paramref name="request"/> generates: 2 mW per layer, 0.4 mW per buffer instance.</summary>
    public static List<(string Instance, double Watts)> Children(BuildRequest request)
    {
        var (design, _) = VivadoReports.DesignOf(request);
        var rows = new List<(string, double)>();
        foreach (var label in HdlGenerator.InstanceLabels(design.Input)) rows.Add((label, 0.0002));
        foreach (var layer in design.Layers)
        {
            rows.Add((HdlGenerator.InstanceLabel(layer), 0.002));
            foreach (var label in HdlGenerator.InstanceLabels(layer.Output)) rows.Add((label, 0.0004));
        }
        return rows;
    }

}
