using System.Globalization;
using System.Text;
using System.Text.Json;
using TransformerFpga.Diagnostics;
using TransformerFpga.Hardware;
using TransformerFpga.Integer;
using TransformerFpga.Model;
using TransformerFpga.Pipeline;
using TransformerFpga.TestSupport;

namespace TransformerFpga.Hdl.Tests;

/// <summary>
/// The power model (toggle rates from the simulator, energy per inference in the reports) and its calibration
/// from Vivado's `report_power`, with reports written as Vivado prints them.
/// </summary>
[TestClass]
public sealed class PowerTests
{
    public TestContext TestContext { get; set; } = null!;

    private static BuildRequest Request(TestFolder folder, string? powerReport = null, string buffers = "Block", string clock = "100")
    {
        string model = SyntheticModel.Write(folder.File("model"), new SyntheticModelSpec(Window: 8, DModel: 8, Heads: 1, FfnDim: 16), seed: 11);
        string project = folder.File("hw.csproj");
        File.WriteAllText(project, "<Project />");
        return new BuildRequest(project, [Path.GetRelativePath(folder.Path, model)], [], [], [],
            new BuildSettings { OutputDir = folder.File("out"), DefaultBufferResource = buffers, ClockMHz = clock, BudgetAsWarning = true, PowerReport = powerReport });
    }

    private static string W(double watts) => watts < 0.001 ? "<0.001" : watts.ToString("0.000", CultureInfo.InvariantCulture);

    /// <summary>
    /// A `report_power` of a routed design as Vivado 2022.2 prints it. Components in W: clocks, slice logic (with
    /// nested rows), signals, block RAM, DSPs, I/O. Sections can be left out to test that they are optional.
    /// </summary>
    private static string PowerReportText(string top, string part, double clocks, double sliceLogic, double signals, double bram, double dsp, double io,
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

    private static List<(string Instance, double Watts)> Children(BuildRequest request)
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

    private static JsonElement Resources(TestFolder folder) => JsonDocument.Parse(File.ReadAllText(folder.File("out/report/resources.json"))).RootElement;

    [TestMethod]
    public void ToggleRateCountsTheFlippedBitsBetweenConsecutiveValues()
    {
        using var folder = new TestFolder();
        var request = Request(folder);
        var inputs = ProjectInputs.Resolve(request);
        var model = new ModelEvaluation(inputs.Config, inputs.Weights).Quantize(_ => new LayerBits(8, 4));
        var workspace = model.CreateWorkspace();
        var first = model.Layers[0];
        var second = model.Layers[1];
        Array.Fill(workspace.Buffers[second.Index], -3);
        // 4-bit values 0, 1, 3, -1: 0000→0001 (1 bit), 0001→0011 (1), 0011→1111 (2); then 1111→1111 (0) for the rest.
        Array.Clear(workspace.Buffers[first.Index]);
        new[] { 0, 1, 3, -1 }.CopyTo(workspace.Buffers[first.Index], 0);
        Array.Fill(workspace.Buffers[first.Index], -1, 4, workspace.Buffers[first.Index].Length - 4);
        var activity = new PowerActivity(model.Layers);
        activity.Record(workspace, model.Input.Bits);

        Assert.AreEqual(4.0 / ((first.Elements - 1) * 4), activity.Of(first.Name), 1e-12);
        Assert.AreEqual(0, activity.Of(second.Name), "a constant buffer never toggles");
        // Two windows: the second alternates every bit of the second layer, so its rate is the mean of 0 and 1.
        for (int i = 0; i < workspace.Buffers[second.Index].Length; i++) workspace.Buffers[second.Index][i] = i % 2 == 0 ? 0 : -1;
        activity.Record(workspace, model.Input.Bits);
        Assert.AreEqual(0.5, activity.Of(second.Name), 1e-12);
    }

    [TestMethod]
    public void EveryBuildReportsPowerAndEnergyPerInference()
    {
        using var folder = new TestFolder();
        var outcome = FpgaBuild.Run(Request(folder));
        Assert.IsTrue(outcome.Success, string.Join("\n", outcome.Diagnostics));
        TestContext.WriteLine(outcome.Summary);
        var json = Resources(folder);
        var power = json.GetProperty("power_mw");
        double staticMw = power.GetProperty("static").GetDouble(), dynamic = power.GetProperty("dynamic").GetDouble(), total = power.GetProperty("total").GetDouble();
        Assert.AreEqual(PowerModel.Xc7s15StaticMw, staticMw, 1e-9, "the XC7S15's static power");
        Assert.IsTrue(dynamic > 0, "dynamic power");
        Assert.AreEqual(staticMw + dynamic, total, 1e-3);
        Assert.AreEqual(total * json.GetProperty("latency_us").GetDouble() / 1000, json.GetProperty("energy_uj").GetDouble(), 1e-3, "energy = power × latency");
        var layers = json.GetProperty("layers").EnumerateArray().ToList();
        Assert.AreEqual(dynamic, layers.Sum(l => l.GetProperty("power_mw").GetDouble()), 1e-2, "the layers' dynamic power adds up to the design's");
        Assert.IsTrue(layers.All(l => l.GetProperty("power_mw").GetDouble() >= 0));
        StringAssert.Contains(outcome.Summary!, "µJ per inference");
        string summary = File.ReadAllText(folder.File("out/report/summary.md"));
        StringAssert.Contains(summary, "## Energy");
        StringAssert.Contains(summary, "µJ per inference");

        // Halving the clock halves dynamic power and doubles the latency: energy's dynamic part stays, its static part doubles.
        using var slow = new TestFolder();
        Assert.IsTrue(FpgaBuild.Run(Request(slow, clock: "50")).Success);
        var half = Resources(slow);
        Assert.AreEqual(dynamic / 2, half.GetProperty("power_mw").GetProperty("dynamic").GetDouble(), 2e-4);
        double energy = json.GetProperty("energy_uj").GetDouble(), latency = json.GetProperty("latency_us").GetDouble();
        Assert.AreEqual(energy + staticMw * latency / 1000, half.GetProperty("energy_uj").GetDouble(), 1e-3);
    }

    [TestMethod]
    public void ParsesVivadoPowerReportsWithAndWithoutOptionalSections()
    {
        var children = new List<(string, double)> { ("u_embedding", 0.003), ("b_embedding", 0.0004) };
        string full = PowerReportText("synthetic", "xc7s15ftgb196-1", 0.004, 0.002, 0.003, 0.001, 0.0006, 0.007, 0.020, children);
        foreach (string text in new[] { full, full.Replace("\n", "\r\n", StringComparison.Ordinal) })
        {
            var report = PowerReport.Parse(text, "power.rpt");
            Assert.AreEqual("synthetic", report.Design);
            Assert.AreEqual("xc7s15ftgb196-1", report.Device);
            Assert.AreEqual(0.018, report.DynamicWatts, 1e-12);
            Assert.AreEqual(0.020, report.StaticWatts, 1e-12);
            Assert.AreEqual(0.038, report.TotalWatts, 1e-12);
            var c = report.ModelledComponents!.Value;
            Assert.AreEqual(4, c.Clocks, 1e-9);
            Assert.AreEqual(5, c.Logic, 1e-9, "slice logic + signals, without the nested rows");
            Assert.AreEqual(1, c.Bram, 1e-9);
            Assert.AreEqual(0.5, c.Dsp, 1e-9, "<0.001 W is read as half of Vivado's resolution");
            Assert.AreEqual(0.007, report.Components["i/o"], 1e-12);
            CollectionAssert.AreEqual(new[] { "synthetic", "u_embedding", "b_embedding" }, report.Hierarchy.Select(h => h.Instance).ToArray());
            CollectionAssert.AreEqual(new[] { 0, 1, 1 }, report.Hierarchy.Select(h => h.Depth).ToArray());
            Assert.AreEqual(0.003, report.Hierarchy[1].Watts, 1e-12);
        }

        var bare = PowerReport.Parse(PowerReportText("synthetic", "xc7s15ftgb196-1", 0.004, 0.002, 0.003, 0.001, 0.0006, 0.007, 0.020, children,
            components: false, supplies: false, hierarchy: false), "bare.rpt");
        Assert.IsNull(bare.ModelledComponents, "no component table");
        Assert.AreEqual(0, bare.Hierarchy.Count);
        Assert.AreEqual(0.018, bare.DynamicWatts, 1e-12);
    }

    [TestMethod]
    public void PowerReportCalibratesTheModelForLaterBuilds()
    {
        using var folder = new TestFolder();
        var plain = Request(folder);
        Assert.IsTrue(FpgaBuild.Run(plain).Success);
        double shippedDynamic = Resources(folder).GetProperty("power_mw").GetProperty("dynamic").GetDouble();

        // Vivado: clocks 4, slice logic 2 + signals 3, block RAM 1, DSP 2 mW (the model's 12 mW), I/O 7 mW (not modelled), static 21 mW.
        File.WriteAllText(folder.File("power.rpt"), PowerReportText("synthetic", "xc7s15ftgb196-1", 0.004, 0.002, 0.003, 0.001, 0.002, 0.007, 0.021, Children(plain)));
        var calibrating = FpgaBuild.Run(Request(folder, powerReport: "power.rpt"));
        Assert.IsTrue(calibrating.Success, string.Join("\n", calibrating.Diagnostics));
        TestContext.WriteLine(calibrating.Summary);
        StringAssert.Contains(calibrating.Summary!, "power calibration against power.rpt, error before → after: dynamic ");
        StringAssert.Contains(calibrating.Summary!, " → 0.0 % · static ");
        Assert.IsTrue(File.Exists(folder.File(PowerCalibration.FileName)));
        StringAssert.Contains(File.ReadAllText(folder.File("out/report/summary.md")), "## Power calibration");

        // A later build without the property uses the file: Vivado's modelled components and static power.
        Assert.IsTrue(FpgaBuild.Run(plain).Success);
        var power = Resources(folder).GetProperty("power_mw");
        Assert.AreEqual(12, power.GetProperty("dynamic").GetDouble(), 1e-3);
        Assert.AreEqual(21, power.GetProperty("static").GetDouble(), 1e-9);
        Assert.AreNotEqual(12, shippedDynamic, 0.5, "the shipped model should differ from this report, or the test shows nothing");

        // Same report, same file.
        string bytes = File.ReadAllText(folder.File(PowerCalibration.FileName));
        Assert.IsTrue(FpgaBuild.Run(Request(folder, powerReport: "power.rpt")).Success);
        Assert.AreEqual(bytes, File.ReadAllText(folder.File(PowerCalibration.FileName)));

        // Without the component table: one factor, Vivado's Dynamic (I/O included) over the model's.
        File.WriteAllText(folder.File("bare.rpt"), PowerReportText("synthetic", "xc7s15ftgb196-1", 0.004, 0.002, 0.003, 0.001, 0.002, 0.007, 0.021, Children(plain),
            components: false, supplies: false, hierarchy: false).Replace("\n", "\r\n", StringComparison.Ordinal));
        Assert.IsTrue(FpgaBuild.Run(Request(folder, powerReport: "bare.rpt")).Success);
        Assert.AreEqual(19, Resources(folder).GetProperty("power_mw").GetProperty("dynamic").GetDouble(), 1e-3);
        var single = PowerCalibration.Load(folder.File(PowerCalibration.FileName)).Scales;
        Assert.IsTrue(single.Clocks == single.Logic && single.Logic == single.Bram && single.Bram == single.Dsp, single.ToString());
    }

    [TestMethod]
    public void PowerReportIsAnInputOfTheIncrementalBuildAndTheFileOtherwise()
    {
        using var folder = new TestFolder();
        string project = folder.File("hw.csproj");
        File.WriteAllText(project, "<Project />");
        CollectionAssert.AreEqual(Array.Empty<string>(), FpgaBuild.PowerCalibrationInputFiles(project, null).ToArray(), "neither exists");
        File.WriteAllText(folder.File(PowerCalibration.FileName), "{}");
        File.WriteAllText(folder.File("power.rpt"), "");
        CollectionAssert.AreEqual(new[] { folder.File(PowerCalibration.FileName) }, FpgaBuild.PowerCalibrationInputFiles(project, " ").ToArray());
        CollectionAssert.AreEqual(new[] { folder.File("power.rpt") }, FpgaBuild.PowerCalibrationInputFiles(project, "power.rpt").ToArray());
    }

    [TestMethod]
    public void BadPowerReportsAndFilesFailWithCodedErrors()
    {
        using var folder = new TestFolder();
        var plain = Request(folder);
        var children = Children(plain);
        string good = PowerReportText("synthetic", "xc7s15ftgb196-1", 0.004, 0.002, 0.003, 0.001, 0.002, 0.007, 0.021, children);
        var cases = new (string Name, string? Text, string Code, string Expected)[]
        {
            ("missing.rpt", null, ErrorCodes.PowerReportMissing, "no Vivado power report"),
            ("empty.rpt", "", ErrorCodes.PowerReportMalformed, "not a Vivado `report_power`"),
            ("utilization.rpt", "1. Utilization by Hierarchy\n---\n", ErrorCodes.PowerReportMalformed, "FpgaCalibrationReport"),
            ("static.rpt", good.Replace("| Device Static (W)        |", "| Device Statik (W)        |", StringComparison.Ordinal), ErrorCodes.PowerReportMalformed, "\"Device Static (W)\""),
            ("number.rpt", good.Replace("| Dynamic (W)              | 0.019", "| Dynamic (W)              | 0.O19", StringComparison.Ordinal), ErrorCodes.PowerReportMalformed, "'0.O19'"),
            ("other-top.rpt", good.Replace("| Design           : synthetic", "| Design           : forecaster", StringComparison.Ordinal), ErrorCodes.PowerReportMismatch, "'forecaster'"),
            ("other-part.rpt", good.Replace("| Device           : xc7s15ftgb196-1", "| Device           : xc7a35tcpg236-1", StringComparison.Ordinal), ErrorCodes.PowerReportMismatch, "'xc7a35tcpg236-1'"),
        };
        foreach (var (name, text, code, expected) in cases)
        {
            string path = folder.File(name);
            if (text is not null) File.WriteAllText(path, text);
            var outcome = FpgaBuild.Run(Request(folder, powerReport: name));
            Assert.IsFalse(outcome.Success, name);
            var error = outcome.Diagnostics.Single(d => d.Severity == Severity.Error);
            Assert.AreEqual(code, error.Code, $"{name}: {error.Message}");
            Assert.AreEqual(path, error.File, name);
            StringAssert.Contains(error.Message, expected, name);
            Assert.IsFalse(File.Exists(folder.File(PowerCalibration.FileName)), name);
        }

        string file = folder.File(PowerCalibration.FileName);
        foreach (var (text, expected) in new[] { ("{ \"scales\": ", "not valid JSON"), ("{}", "no \"scales\""), ("{ \"scales\": { \"clocks\": 1, \"logic\": -1, \"bram\": 1, \"dsp\": 1 } }", "\"logic\"") })
        {
            File.WriteAllText(file, text);
            var outcome = FpgaBuild.Run(plain);
            var error = outcome.Diagnostics.Single(d => d.Severity == Severity.Error);
            Assert.AreEqual(ErrorCodes.PowerCalibrationFileMalformed, error.Code, error.Message);
            Assert.AreEqual(file, error.File);
            StringAssert.Contains(error.Message, expected, text);
        }
        // Calibrating replaces a malformed file.
        File.WriteAllText(folder.File("good.rpt"), good);
        Assert.IsTrue(FpgaBuild.Run(Request(folder, powerReport: "good.rpt")).Success);
        Assert.IsTrue(FpgaBuild.Run(plain).Success);
    }
}
