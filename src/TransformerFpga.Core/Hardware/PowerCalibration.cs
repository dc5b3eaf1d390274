using System.Globalization;
using System.Text;
using System.Text.Json;
using TransformerFpga.Diagnostics;
using TransformerFpga.Hdl;
using TransformerFpga.Reports;

namespace TransformerFpga.Hardware;

/// <summary>
/// The power model's calibration: a factor per dynamic component over the shipped coefficients and the device's
/// static power (null: the shipped figure). Written by a build with FpgaPowerReport to fpga-power-calibration.json
/// beside the project; every later build reads it.
/// </summary>
public sealed record PowerCalibration(PowerComponents Scales, double? StaticMw, string Source)
{
    public const string FileName = "fpga-power-calibration.json";

    public static readonly PowerCalibration Shipped = new(new PowerComponents(1, 1, 1, 1), null, "shipped");

    /// <summary>The calibration in effect for a project: its fpga-power-calibration.json, or the shipped model.</summary>
    public static PowerCalibration ForProject(string projectDirectory)
    {
        string path = Path.Combine(projectDirectory, FileName);
        return File.Exists(path) ? Load(path) : Shipped;
    }

    /// <summary>Reads a calibration file; TFPGA047 when it is not one.</summary>
    public static PowerCalibration Load(string path)
    {
        const string fix = "; rebuild with FpgaPowerReport set, or delete the file to use the shipped power model";
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("scales", out var scales) || scales.ValueKind != JsonValueKind.Object)
                throw new FpgaException(ErrorCodes.PowerCalibrationFileMalformed, path, "the power calibration file has no \"scales\" object" + fix);
            double Number(JsonElement parent, string name, string where)
            {
                if (!parent.TryGetProperty(name, out var e) || e.ValueKind != JsonValueKind.Number || !double.IsFinite(e.GetDouble()) || e.GetDouble() < 0)
                    throw new FpgaException(ErrorCodes.PowerCalibrationFileMalformed, path, $"\"{name}\" {where} must be a non-negative number" + fix);
                return e.GetDouble();
            }
            var values = PowerComponents.Names.Select(n => Number(scales, n, "in \"scales\"")).ToArray();
            double? staticMw = root.TryGetProperty("static_mw", out _) ? Number(root, "static_mw", "") : null;
            string source = root.TryGetProperty("source", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : FileName;
            return new PowerCalibration(new PowerComponents(values[0], values[1], values[2], values[3]), staticMw, source);
        }
        catch (JsonException e)
        {
            throw new FpgaException(ErrorCodes.PowerCalibrationFileMalformed, path, (int)(e.LineNumber ?? -1) + 1, "the power calibration file is not valid JSON (" + e.Message + ")" + fix);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FpgaException(ErrorCodes.PowerCalibrationFileMalformed, path, "cannot read the power calibration file: " + e.Message);
        }
    }

    public string Json()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("source", Source);
            if (StaticMw is double s) json.WriteNumber("static_mw", Math.Round(s, 4, MidpointRounding.AwayFromZero));
            json.WriteStartObject("scales");
            foreach (string name in PowerComponents.Names) json.WriteNumber(name, Math.Round(Scales[name], 6, MidpointRounding.AwayFromZero));
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()).Replace("\r\n", "\n") + "\n";
    }

    /// <summary>Writes the file beside the project (deterministic; not rewritten when unchanged). TFPGA030 when it cannot.</summary>
    public void Write(string projectDirectory)
    {
        string path = Path.Combine(projectDirectory, FileName);
        try
        {
            OutputWriter.WriteIfChanged(path, Json());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FpgaException(ErrorCodes.OutputWriteFailed, path, "cannot write the power calibration file: " + e.Message);
        }
    }

    /// <summary>
    /// Fits the model to a report_power of this design. Each dynamic component the report lists (Clocks; Slice
    /// Logic + Signals; Block RAM; DSPs) scales the shipped coefficients of that component by measured / modelled,
    /// so that the design's modelled components equal Vivado's; I/O and clock managers are left out, as the model has
    /// none. A report without the component table gives one factor, its Dynamic over the model's. A component the
    /// model predicts none of keeps factor 1. Static power is taken as Vivado reports it. The fit starts from the
    /// shipped model, so the same report gives the same file. TFPGA046 when the report is of another design or part.
    /// </summary>
    public static PowerCalibrationResult Run(PowerReport report, string reportName, DesignEstimate design, HdlGenerator.Design hardware,
        PowerActivity? activity, PowerCalibration current)
    {
        if (report.Design is { } top && !string.Equals(top, design.Top, StringComparison.OrdinalIgnoreCase))
            throw new FpgaException(ErrorCodes.PowerReportMismatch, report.File,
                $"the power report is of the design '{top}'; this project's top is '{design.Top}' (run vivado/build.tcl of this build and point FpgaPowerReport at its vivado-out/power.rpt)");
        if (report.Device is { } device && !string.Equals(device.Trim(), design.Part.Trim(), StringComparison.OrdinalIgnoreCase))
            throw new FpgaException(ErrorCodes.PowerReportMismatch, report.File,
                $"the power report is of the part '{device}'; this project targets '{design.Part}' (FpgaPart)");

        var shipped = PowerModel.Estimate(design, activity, Shipped).Dynamic;
        var measured = report.ModelledComponents;
        PowerComponents scales;
        if (measured is PowerComponents m)
        {
            double Fit(string c) => shipped[c] > 1e-9 ? m[c] / shipped[c] : 1;
            scales = new PowerComponents(Fit("clocks"), Fit("logic"), Fit("bram"), Fit("dsp"));
        }
        else
        {
            double s = shipped.Total > 1e-9 ? report.DynamicWatts * 1000 / shipped.Total : 1;
            scales = new PowerComponents(s, s, s, s);
        }
        var calibrated = new PowerCalibration(scales, report.StaticWatts * 1000,
            $"Vivado report_power of {design.Top} ({Path.GetFileName(reportName)}): shipped coefficients scaled per component");
        var before = PowerModel.Estimate(design, activity, current);
        var after = PowerModel.Estimate(design, activity, calibrated);
        return new PowerCalibrationResult(reportName, report, calibrated, before, after, LayerMeasurements(report, hardware));
    }

    /// <summary>Vivado's dynamic power (mW) per layer row (the layer's instance and its buffer's), from the hierarchy table; empty without it.</summary>
    private static IReadOnlyDictionary<string, double> LayerMeasurements(PowerReport report, HdlGenerator.Design hardware)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        var children = report.Hierarchy.Where(r => r.Depth == 1).GroupBy(r => r.Instance, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.First().Watts, StringComparer.OrdinalIgnoreCase);
        if (children.Count == 0) return result;
        void Add(string row, IEnumerable<string> labels)
        {
            var list = labels.ToList();
            if (list.All(children.ContainsKey)) result[row] = list.Sum(l => children[l]) * 1000;
        }
        Add("input", HdlGenerator.InstanceLabels(hardware.Input));
        // an engine layer's row holds its buffer, which is the last write-back layer's when the job has a write-back
        foreach (var layer in hardware.Layers)
            Add(layer.OnEngine ? layer.Output.Name : layer.Layer.Name,
                layer.HasInstance ? HdlGenerator.InstanceLabels(layer.Output).Prepend(HdlGenerator.InstanceLabel(layer)) : HdlGenerator.InstanceLabels(layer.Output));
        if (hardware.Engine is not null) Add(ResourceModel.EngineRow, [HdlGenerator.EngineLabel]);
        return result;
    }
}

/// <summary>A power calibration: the fitted calibration and the estimates with the calibration in effect before and after.</summary>
public sealed record PowerCalibrationResult(string Report, PowerReport Measured, PowerCalibration Calibration, PowerEstimate Before, PowerEstimate After,
    IReadOnlyDictionary<string, double> MeasuredLayers)
{
    /// <summary>Vivado's dynamic power the model is compared with (mW): the modelled components, or Dynamic without the table.</summary>
    public double MeasuredDynamicMw => Measured.ModelledComponents?.Total ?? Measured.DynamicWatts * 1000;

    public double MeasuredStaticMw => Measured.StaticWatts * 1000;

    private static double Error(double estimate, double measured) => measured > 0 ? 100 * (estimate - measured) / measured : 0;

    /// <summary>Mean |error| in % over the layers Vivado measures at 1 mW or more (its report's resolution); null when none.</summary>
    public double? LayerError(PowerEstimate estimate)
    {
        var rows = MeasuredLayers.Where(m => m.Value >= 1).ToList();
        return rows.Count == 0 ? null : rows.Average(m => Math.Abs(Error(estimate.LayerMw(m.Key), m.Value)));
    }

    private static string P(double v) => Reports.Formats.SignedPercent(v);

    /// <summary>`power calibration against power.rpt, error before → after: dynamic +35.0 % → 0.0 % · static …`.</summary>
    public string SummaryLine()
    {
        var parts = new List<string>
        {
            $"dynamic {P(Error(Before.DynamicMw, MeasuredDynamicMw))} → {P(Error(After.DynamicMw, MeasuredDynamicMw))}",
            $"static {P(Error(Before.StaticMw, MeasuredStaticMw))} → {P(Error(After.StaticMw, MeasuredStaticMw))}",
            $"total {P(Error(Before.TotalMw, MeasuredDynamicMw + MeasuredStaticMw))} → {P(Error(After.TotalMw, MeasuredDynamicMw + MeasuredStaticMw))}",
        };
        if (LayerError(Before) is double lb && LayerError(After) is double la)
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"per layer {lb:0.0} % → {la:0.0} % mean |error|"));
        return $"power calibration against {Path.GetFileName(Report)}, error before → after: " + string.Join(" · ", parts);
    }

    /// <summary>The "Power calibration" section of report/summary.md.</summary>
    public string Markdown()
    {
        var md = new StringBuilder("## Power calibration\n\n");
        md.Append(SummaryLine()).Append(". Written to `").Append(PowerCalibration.FileName).Append("` beside the project.\n\n");
        md.Append("| component | Vivado mW | before mW | after mW | scale |\n|---|---:|---:|---:|---:|\n");
        var measured = Measured.ModelledComponents;
        foreach (string c in PowerComponents.Names)
            md.Append(string.Create(CultureInfo.InvariantCulture,
                $"| {c} | {(measured is PowerComponents m ? m[c].ToString("0.0", CultureInfo.InvariantCulture) : "–")} | {Before.Dynamic[c]:0.0} | {After.Dynamic[c]:0.0} | {Calibration.Scales[c]:0.###} |\n"));
        md.Append(string.Create(CultureInfo.InvariantCulture, $"| static | {MeasuredStaticMw:0.0} | {Before.StaticMw:0.0} | {After.StaticMw:0.0} | |\n"));
        return md.ToString();
    }
}
