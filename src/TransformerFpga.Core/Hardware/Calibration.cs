using System.Globalization;
using System.Text;
using System.Text.Json;
using TransformerFpga.Diagnostics;
using TransformerFpga.Hdl;
using TransformerFpga.Reports;

namespace TransformerFpga.Hardware;

/// <summary>A module of the design with what Vivado measured for it (all its instances).</summary>
/// <param name="Labels">Its instance labels in the top; the top's own logic is "(top)".</param>
public sealed record MeasuredModule(DesignModule Module, IReadOnlyList<string> Labels, Resources Measured);

/// <summary>How a kind's coefficients of one resource changed: scaled, set to a constant, or kept (counted by a rule).</summary>
public sealed record CoefficientChange(string How, double Value)
{
    public const string Scale = "scale", Constant = "constant", Rule = "rule";
}

/// <summary>The refit of one module kind: per resource, how its coefficients changed.</summary>
public sealed record KindRefit(ModuleKind Kind, int Modules, CoefficientChange Lut, CoefficientChange Ff, CoefficientChange LutRam);

/// <summary>
/// The estimate's error against the measurement for one resource. LUT, LUTRAM, FF: <see cref="Modules"/> is the
/// mean |error| in % over the modules that use the resource by either count, <see cref="Total"/> the signed
/// error of the sum in %. BRAM18, DSP: Σ|difference| over the modules and the signed difference of the sum.
/// </summary>
public sealed record CalibrationError(string Resource, double Modules, double Total)
{
    public bool IsPercent => Resource is not ("BRAM18" or "DSP");
}

public sealed record ModuleComparison(MeasuredModule Module, Resources Before, Resources After);

/// <summary>The outcome of a calibration: the refitted coefficients and the error before and after, per module and in total.</summary>
public sealed record CalibrationResult(
    string Report, string Top, ResourceCoefficients Coefficients, IReadOnlyList<KindRefit> Refits,
    IReadOnlyList<ModuleComparison> Modules, IReadOnlyList<CalibrationError> Before, IReadOnlyList<CalibrationError> After)
{
    private static string Percent(double v) => v.ToString("0.0", CultureInfo.InvariantCulture) + " %";
    private static string SignedPercent(double v) => Reports.Formats.SignedPercent(v);
    private static string Signed(double v) => v.ToString("+0;-0;0", CultureInfo.InvariantCulture);
    private static string Count(double v) => v.ToString("0", CultureInfo.InvariantCulture);

    /// <summary>One resource's errors before and after as the summary line and the Markdown table show them.</summary>
    private static (string ModulesBefore, string ModulesAfter, string TotalBefore, string TotalAfter) Formatted(CalibrationError b, CalibrationError a) => b.IsPercent
        ? (Percent(b.Modules), Percent(a.Modules), SignedPercent(b.Total), SignedPercent(a.Total))
        : (Count(b.Modules), Count(a.Modules), Signed(b.Total), Signed(a.Total));

    /// <summary>One line per build log: `calibration: LUT 18.2 % → 0.4 % per module (total +19.8 % → +0.1 %) · …`.</summary>
    public string SummaryLine()
    {
        var parts = Before.Zip(After, (b, a) =>
        {
            var (mb, ma, tb, ta) = Formatted(b, a);
            return b.IsPercent ? $"{b.Resource} {mb} → {ma} per module (total {tb} → {ta})" : $"{b.Resource} Σ|Δ| {mb} → {ma} (total {tb} → {ta})";
        });
        return $"calibration against {Path.GetFileName(Report)}, estimate error before → after: " + string.Join(" · ", parts);
    }

    /// <summary>The "Calibration" section of report/summary.md.</summary>
    public string Markdown()
    {
        var md = new StringBuilder();
        md.Append("## Calibration\n\n");
        md.Append("Coefficients refitted to the Vivado report `").Append(Path.GetFileName(Report)).Append("` and written to `")
            .Append(Calibration.FileName).Append("` beside the project. LUT, LUTRAM, FF: mean |error| per module and error of the total;")
            .Append(" BRAM18, DSP (counted by rules, not refitted): Σ|difference| per module and difference of the total.\n\n");
        md.Append("| resource | per module before | after | total before | after |\n|---|---:|---:|---:|---:|\n");
        foreach (var (b, a) in Before.Zip(After))
        {
            var (mb, ma, tb, ta) = Formatted(b, a);
            md.Append($"| {b.Resource} | {mb} | {ma} | {tb} | {ta} |\n");
        }
        return md.ToString();
    }

    /// <summary>report/calibration.json: the refit per kind, the errors and every module's measurement and estimates.</summary>
    public string Json()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            void WriteChange(string name, CoefficientChange c)
            {
                json.WriteStartObject(name);
                json.WriteString("how", c.How);
                if (c.How != CoefficientChange.Rule) json.WriteNumber("value", c.Value);
                json.WriteEndObject();
            }
            void WriteErrors(string name, IReadOnlyList<CalibrationError> errors)
            {
                json.WriteStartObject(name);
                foreach (var e in errors)
                {
                    json.WriteStartObject(e.Resource.ToLowerInvariant());
                    json.WriteNumber(e.IsPercent ? "module_mean_abs_percent" : "module_abs_difference", e.Modules);
                    json.WriteNumber(e.IsPercent ? "total_percent" : "total_difference", e.Total);
                    json.WriteEndObject();
                }
                json.WriteEndObject();
            }
            json.WriteStartObject();
            json.WriteString("report", Report.Replace('\\', '/'));
            json.WriteString("top", Top);
            json.WriteString("coefficients_file", Calibration.FileName);
            WriteErrors("error_before", Before);
            WriteErrors("error_after", After);
            json.WriteStartArray("kinds");
            foreach (var k in Refits)
            {
                json.WriteStartObject();
                json.WriteString("kind", k.Kind.ToString());
                json.WriteNumber("modules", k.Modules);
                WriteChange("lut", k.Lut);
                WriteChange("ff", k.Ff);
                WriteChange("lutram", k.LutRam);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("modules");
            foreach (var m in Modules)
            {
                json.WriteStartObject();
                json.WriteString("instance", string.Join(" ", m.Module.Labels));
                json.WriteString("layer", m.Module.Module.Layer);
                json.WriteString("kind", m.Module.Module.Kind.ToString());
                m.Module.Measured.WriteObject(json, "measured");
                m.Before.WriteObject(json, "before");
                m.After.WriteObject(json, "after");
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()).Replace("\r\n", "\n") + "\n";
    }
}

/// <summary>
/// Calibrates the resource model to a Vivado `report_utilization -hierarchical` report of the generated
/// design. One report is one design, with few modules per kind, so a full refit of every feature's
/// coefficient would be underdetermined. Instead, per module kind and per resource (LUT, FF, LUT-RAM),
/// the shipped coefficients are multiplied by the least-squares factor s = Σ x·y / Σ x², x the shipped
/// estimate of a module and y Vivado's count (per instance): the model's shape over the features stays,
/// its level follows Vivado. Where the shipped model predicts nothing for a kind that Vivado gives some of
/// a resource, the constant term becomes the mean count instead. Kinds absent from the report, the
/// buffers' LUT RAM and all RAMB18 and DSP counts keep their rules.
/// </summary>
public static class Calibration
{
    /// <summary>Beside the project file; later builds use it in place of the shipped coefficients.</summary>
    public const string FileName = "fpga-calibration.json";

    private const string TopLabel = "(top)";

    /// <summary>The coefficients in effect for a project: fpga-calibration.json over the shipped ones, or the shipped ones.</summary>
    public static ResourceCoefficients ForProject(string projectDirectory)
    {
        string path = Path.Combine(projectDirectory, FileName);
        return File.Exists(path) ? Load(path) : ResourceCoefficients.Default;
    }

    /// <summary>Reads a calibration file; kinds it does not name keep the shipped coefficients. TFPGA043 when malformed.</summary>
    public static ResourceCoefficients Load(string path)
    {
        ResourceCoefficients file;
        try
        {
            file = ResourceCoefficients.FromJson(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new FpgaException(ErrorCodes.CalibrationFileMalformed, path, (int)(e.LineNumber ?? -1) + 1,
                "the calibration file is not valid JSON of resource coefficients (" + e.Message + "); rebuild with FpgaCalibrationReport set, or delete the file to use the shipped coefficients");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FpgaException(ErrorCodes.CalibrationFileMalformed, path, "cannot read the calibration file: " + e.Message);
        }
        if (file.Kinds is null || file.Kinds.Count == 0)
            throw new FpgaException(ErrorCodes.CalibrationFileMalformed, path, "the calibration file names no module kind under \"kinds\"; rebuild with FpgaCalibrationReport set, or delete the file");
        var kinds = Enum.GetNames<ModuleKind>();
        var unknown = file.Kinds.Keys.Where(k => !kinds.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new FpgaException(ErrorCodes.CalibrationFileMalformed, path,
                $"unknown module kind {string.Join(", ", unknown.Select(k => "'" + k + "'"))}; the kinds are {string.Join(", ", kinds)}");
        var merged = new ResourceCoefficients { Source = file.Source ?? "" };
        foreach (var kind in Enum.GetValues<ModuleKind>())
        {
            string name = kind.ToString();
            var shipped = ResourceCoefficients.Default.For(kind);
            if (!file.Kinds.TryGetValue(name, out var c))
            {
                if (ResourceCoefficients.Default.Kinds.ContainsKey(name)) merged.Kinds[name] = shipped;
                continue;
            }
            foreach (var (resource, values, expected) in new[] { ("lut", c?.Lut, shipped.Lut), ("ff", c?.Ff, shipped.Ff), ("lutRam", c?.LutRam, shipped.LutRam) })
            {
                if (values is null || values.Length != expected.Length || values.Any(v => !double.IsFinite(v)))
                    throw new FpgaException(ErrorCodes.CalibrationFileMalformed, path,
                        $"\"{resource}\" of kind {name} must be {expected.Length} finite numbers; rebuild with FpgaCalibrationReport set, or delete the file");
            }
            merged.Kinds[name] = c!;
        }
        return merged;
    }

    /// <summary>Writes the calibrated kinds (deterministic bytes; not rewritten when unchanged; atomic). TFPGA030 when it cannot.</summary>
    public static void Write(string projectDirectory, ResourceCoefficients calibrated)
    {
        string path = Path.Combine(projectDirectory, FileName);
        try
        {
            OutputWriter.WriteIfChanged(path, calibrated.ToJson().Replace("\r\n", "\n") + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FpgaException(ErrorCodes.OutputWriteFailed, path, "cannot write the calibration file: " + e.Message);
        }
    }

    /// <summary>
    /// Assigns the report's rows to the design's modules by instance label (u_&lt;layer&gt;, b_&lt;buffer&gt;[_bank]).
    /// The top gets the rest of the total: its own logic and the read multiplexers (m_&lt;buffer&gt;).
    /// TFPGA042 when the report is of another design.
    /// </summary>
    public static IReadOnlyList<MeasuredModule> Match(HierarchicalUtilization report, HdlGenerator.Design design, IReadOnlyList<DesignModule> modules)
    {
        var top = report.Top;
        if (!string.Equals(top.Instance, design.Top, StringComparison.OrdinalIgnoreCase))
            throw new FpgaException(ErrorCodes.CalibrationReportMismatch, report.File, top.Line,
                $"the report is of the design '{top.Instance}'; this project's top is '{design.Top}' (run vivado/build.tcl of this build and point FpgaCalibrationReport at its vivado-out/utilization_hierarchical.rpt)");

        var labelsOf = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var b in design.Buffers) labelsOf[b.Entity] = HdlGenerator.InstanceLabels(b);
        foreach (var l in design.OwnDatapaths) labelsOf[l.Entity] = [HdlGenerator.InstanceLabel(l)];
        if (design.Engine is not null) labelsOf[design.EngineEntity] = [HdlGenerator.EngineLabel];
        var known = labelsOf.Values.SelectMany(ls => ls).Concat(design.Buffers.Select(HdlGenerator.MuxLabel)).ToHashSet(StringComparer.OrdinalIgnoreCase);

        var children = new Dictionary<string, UtilizationRow>(StringComparer.OrdinalIgnoreCase);
        var unknown = new List<string>();
        foreach (var row in report.Rows.Where(r => r.Depth == 1 && !r.IsOwnLogic))
        {
            if (!children.TryAdd(row.Instance, row))
                throw new FpgaException(ErrorCodes.CalibrationReportMalformed, report.File, row.Line, $"the instance '{row.Instance}' appears twice below the top");
            if (!known.Contains(row.Instance))
                unknown.Add(row.Instance);
        }
        var missing = labelsOf.Values.SelectMany(ls => ls).Where(l => !children.ContainsKey(l)).ToList();
        if (unknown.Count > 0 || missing.Count > 0)
        {
            static string List(List<string> names) => string.Join(", ", names.Take(12)) + (names.Count > 12 ? $" and {names.Count - 12} more" : "");
            var problems = new List<string>();
            if (missing.Count > 0) problems.Add("missing instances " + List(missing));
            if (unknown.Count > 0) problems.Add("instances the design does not have " + List(unknown));
            throw new FpgaException(ErrorCodes.CalibrationReportMismatch, report.File, top.Line,
                $"the report does not match the generated design of '{design.Top}': {string.Join("; ", problems)}. Synthesize this build's vivado/build.tcl (it keeps the hierarchy) and report again");
        }

        var result = new List<MeasuredModule>();
        var listed = new Resources();
        foreach (var module in modules.Where(m => m.Kind != ModuleKind.Top))
        {
            var labels = labelsOf[module.Entity];
            var measured = labels.Aggregate(new Resources(), (sum, l) => sum + children[l].Resources);
            listed += measured;
            result.Add(new MeasuredModule(module, labels, measured));
        }
        var topModule = modules.Single(m => m.Kind == ModuleKind.Top);
        var own = top.Resources - listed;
        if (Resources.Names.Any(name => own[name] < 0))
            throw new FpgaException(ErrorCodes.CalibrationReportMalformed, report.File, top.Line,
                $"the instances below '{top.Instance}' add up to more than its total; the report is inconsistent");
        result.Insert(0, new MeasuredModule(topModule, [TopLabel], own));
        return result;
    }

    /// <summary>Matches the report to the design, refits from <paramref name="baseline"/> and compares with <paramref name="current"/> (the coefficients the build would use otherwise).</summary>
    public static CalibrationResult Run(HierarchicalUtilization report, string reportName, HdlGenerator.Design design, IReadOnlyList<DesignModule> modules,
        ResourceCoefficients current, ResourceCoefficients baseline)
    {
        var measured = Match(report, design, modules);
        var (coefficients, refits) = Refit(measured, design, baseline,
            $"Vivado report_utilization -hierarchical of {design.Top} ({Path.GetFileName(reportName)}): shipped coefficients scaled per module kind");
        var effective = WithFallback(coefficients, baseline);
        var comparisons = measured.Select(m => new ModuleComparison(m, ResourceModel.Estimate(m.Module, design, current), ResourceModel.Estimate(m.Module, design, effective))).ToList();
        return new CalibrationResult(reportName, design.Top, coefficients, refits, comparisons,
            Errors(comparisons.Select(c => (c.Before, c.Module.Measured))), Errors(comparisons.Select(c => (c.After, c.Module.Measured))));
    }

    /// <summary>The per-kind, per-resource refit described on the class; the result holds only the kinds in <paramref name="measured"/>.</summary>
    public static (ResourceCoefficients Coefficients, IReadOnlyList<KindRefit> Refits) Refit(IReadOnlyList<MeasuredModule> measured, HdlGenerator.Design design,
        ResourceCoefficients baseline, string source)
    {
        var result = new ResourceCoefficients { Source = source };
        var refits = new List<KindRefit>();
        foreach (var group in measured.GroupBy(m => m.Module.Kind).OrderBy(g => g.Key))
        {
            var kind = group.Key;
            var shipped = baseline.For(kind);
            // Counted LUT RAM (a datapath's small internal RAMs) is not the coefficients' to scale.
            var rows = group.Select(m => (Features: ResourceModel.Features(m.Module, design),
                Measured: m.Measured - ResourceModel.CountedMemory(m.Module) * m.Module.Instances,
                m.Module.Instances)).ToList();
            (double[], CoefficientChange) Fit(double[] c, Func<Resources, int> pick)
            {
                double xy = 0, xx = 0, y = 0;
                foreach (var (features, m, instances) in rows)
                {
                    double x = Math.Max(0, Dot(c, features)), target = (double)pick(m) / instances;
                    xy += x * target;
                    xx += x * x;
                    y += target;
                }
                if (xx > 1e-9) return (c.Select(v => v * (xy / xx)).ToArray(), new CoefficientChange(CoefficientChange.Scale, xy / xx));
                if (y <= 0) return (c.ToArray(), new CoefficientChange(CoefficientChange.Scale, 1));
                // The shipped model predicts none of it: a constant per instance, the mean Vivado count.
                var constant = new double[Math.Max(1, c.Length)];
                constant[0] = y / rows.Count;
                return (constant, new CoefficientChange(CoefficientChange.Constant, constant[0]));
            }
            var (lut, lutChange) = Fit(shipped.Lut, r => r.Lut);
            var (ff, ffChange) = Fit(shipped.Ff, r => r.Ff);
            var (lutRam, lutRamChange) = kind == ModuleKind.DistributedBuffer
                ? (shipped.LutRam.ToArray(), new CoefficientChange(CoefficientChange.Rule, 0))
                : Fit(shipped.LutRam, r => r.LutRam);
            result.Kinds[kind.ToString()] = new KindCoefficients { Lut = lut, Ff = ff, LutRam = lutRam };
            refits.Add(new KindRefit(kind, rows.Count, lutChange, ffChange, lutRamChange));
        }
        return (result, refits);
    }

    public static ResourceCoefficients WithFallback(ResourceCoefficients coefficients, ResourceCoefficients fallback)
    {
        var merged = new ResourceCoefficients { Source = coefficients.Source };
        foreach (var (kind, c) in coefficients.Kinds) merged.Kinds[kind] = c;
        foreach (var (kind, c) in fallback.Kinds) merged.Kinds.TryAdd(kind, c);
        return merged;
    }

    /// <summary>An estimate's error against a measurement: percent for LUT, LUTRAM and FF; absolute difference for BRAM18 and DSP.</summary>
    public static double ErrorValue(string resource, int estimate, int synthesis) =>
        resource is "BRAM18" or "DSP" ? estimate - synthesis : synthesis == 0 ? (estimate == 0 ? 0 : 100) : (estimate - synthesis) * 100.0 / synthesis;

    /// <summary>The errors of estimates against measurements, per resource in report order (see <see cref="CalibrationError"/>).</summary>
    public static IReadOnlyList<CalibrationError> Errors(IEnumerable<(Resources Estimate, Resources Measured)> modules)
    {
        var list = modules.ToList();
        var estimate = list.Aggregate(new Resources(), (s, m) => s + m.Estimate);
        var measured = list.Aggregate(new Resources(), (s, m) => s + m.Measured);
        return Resources.Names.Select(name =>
        {
            if (name is "BRAM18" or "DSP")
                return new CalibrationError(name, list.Sum(m => Math.Abs(m.Estimate[name] - m.Measured[name])), estimate[name] - measured[name]);
            var used = list.Where(m => m.Estimate[name] > 0 || m.Measured[name] > 0).ToList();
            double mean = used.Count == 0 ? 0 : used.Average(m => Math.Abs(ErrorValue(name, m.Estimate[name], m.Measured[name])));
            return new CalibrationError(name, mean, ErrorValue(name, estimate[name], measured[name]));
        }).ToList();
    }

    private static double Dot(double[] c, double[] f)
    {
        double s = 0;
        for (int i = 0; i < f.Length && i < c.Length; i++) s += c[i] * f[i];
        return s;
    }
}
