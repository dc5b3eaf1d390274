using System.Globalization;
using System.Text;
using System.Text.Json;

namespace TransformerFpga.Hardware;

/// <summary>
/// Dynamic power split as Vivado's report_power splits it (1.1 On-Chip Components), in mW: the clock network,
/// slice logic with its signals (LUTs, LUT RAM, flip-flop data), block RAM and DSP48E1.
/// </summary>
public readonly record struct PowerComponents(double Clocks, double Logic, double Bram, double Dsp)
{
    public double Total => Clocks + Logic + Bram + Dsp;

    public static PowerComponents operator +(PowerComponents a, PowerComponents b) => new(a.Clocks + b.Clocks, a.Logic + b.Logic, a.Bram + b.Bram, a.Dsp + b.Dsp);

    public PowerComponents Scaled(PowerComponents scale) => new(Clocks * scale.Clocks, Logic * scale.Logic, Bram * scale.Bram, Dsp * scale.Dsp);

    /// <summary>The component names in report order, as the calibration file and messages spell them.</summary>
    public static readonly IReadOnlyList<string> Names = ["clocks", "logic", "bram", "dsp"];

    public double this[string name] => name switch
    {
        "clocks" => Clocks, "logic" => Logic, "bram" => Bram, "dsp" => Dsp,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };
}

/// <summary>One row of the power estimate: a layer with its buffer (or the input buffer, or the control).</summary>
public sealed record LayerPower(string Name, double ToggleRate, double Duty, PowerComponents Dynamic);

/// <summary>Power and energy of one design at its clock (mW, µJ); dynamic power is the average over one inference.</summary>
public sealed record PowerEstimate(double StaticMw, IReadOnlyList<LayerPower> Layers, double LatencyUs, string Calibration)
{
    public PowerComponents Dynamic => Layers.Aggregate(new PowerComponents(), (sum, l) => sum + l.Dynamic);
    public double DynamicMw => Dynamic.Total;
    public double TotalMw => StaticMw + DynamicMw;
    /// <summary>Energy per inference: the average on-chip power over the latency at the clock.</summary>
    public double EnergyUj => TotalMw * LatencyUs / 1000;

    /// <summary>A layer row's average dynamic power in mW (0 for a name the estimate does not have).</summary>
    public double LayerMw(string name) => Layers.FirstOrDefault(l => l.Name == name)?.Dynamic.Total ?? 0;

    private static double Round(double v) => Math.Round(v, 4, MidpointRounding.AwayFromZero);

    /// <summary>Writes "power_mw" (static, dynamic, total) and "energy_uj" into the current JSON object.</summary>
    public void WriteFields(Utf8JsonWriter json)
    {
        json.WriteStartObject("power_mw");
        json.WriteNumber("static", Round(StaticMw));
        json.WriteNumber("dynamic", Round(DynamicMw));
        json.WriteNumber("total", Round(TotalMw));
        json.WriteEndObject();
        json.WriteNumber("energy_uj", Round(EnergyUj));
    }

    /// <summary>A layer row's "power_mw" (its dynamic power) in the current JSON object.</summary>
    public void WriteLayerField(Utf8JsonWriter json, string layer) => json.WriteNumber("power_mw", Round(LayerMw(layer)));

    /// <summary>`power 41.2 mW (static 20.0 + dynamic 21.2) · 30.5 µJ per inference (741 µs)`.</summary>
    public string SummaryLine() => string.Create(CultureInfo.InvariantCulture,
        $"power {TotalMw:0.0} mW (static {StaticMw:0.0} + dynamic {DynamicMw:0.0}) · {EnergyUj:0.0} µJ per inference ({LatencyUs:0.#} µs)");

    /// <summary>The "Energy" section of report/summary.md: the line, the components and each layer's dynamic share.</summary>
    public string Markdown()
    {
        var d = Dynamic;
        var md = new StringBuilder();
        md.Append("## Energy\n\n").Append(SummaryLine()).Append(".\n\n");
        md.Append(string.Create(CultureInfo.InvariantCulture,
            $"Dynamic power by component: clocks {d.Clocks:0.00} mW, logic {d.Logic:0.00} mW, block RAM {d.Bram:0.00} mW, DSP {d.Dsp:0.00} mW; coefficients: {Calibration}.\n\n"));
        md.Append("| layer | toggle rate | active | dynamic mW | share |\n|---|---:|---:|---:|---:|\n");
        double total = Math.Max(1e-12, DynamicMw);
        foreach (var l in Layers.Where(l => l.Dynamic.Total > 0))
            md.Append(string.Create(CultureInfo.InvariantCulture,
                $"| {l.Name} | {l.ToggleRate:0.000} | {100 * l.Duty:0.#} % | {l.Dynamic.Total:0.000} | {100 * l.Dynamic.Total / total:0.#} % |\n"));
        return md.ToString();
    }
}

/// <summary>
/// The power model: a device's static power plus dynamic power from the resource counts, the clock and the
/// switching activity. Per layer row (the layer with its buffer), in µW per MHz of clock:
/// <list type="bullet">
/// <item>clocks = every flip-flop, LUT-RAM, RAMB18 and DSP48E1 clock pin, all the time: the design has no clock
/// gating, layers wait with their enables low; the control row adds the global buffer and spine;</item>
/// <item>logic = (logic LUTs, LUT RAM, flip-flop data) × toggle rate × share of the inference the layer runs
/// (layers run one after another, so a layer's data paths are still outside its own steps);</item>
/// <item>block RAM = each RAMB18 at full rate: the buffers' read port has no enable and reads every clock;</item>
/// <item>DSP = each DSP48E1 × toggle rate × share of the inference the layer runs.</item>
/// </list>
/// The toggle rate is what the simulator saw on the layer's output values (<see cref="PowerActivity"/>); the
/// control and, without a simulation, every layer use Vivado's vectorless default of 12.5 %.
/// </summary>
public static class PowerModel
{
    /// <summary>Vivado's default toggle rate for vectorless power analysis (UG907): 12.5 % of clocks.</summary>
    public const double DefaultToggleRate = 0.125;

    // µW per MHz. XPE-style figures for 7-series at VCCINT 1.0 V, typical process, 25 °C, expressed per unit toggle
    // rate where the data switches (XPE's own tables are at 12.5 %: multiply by 0.125 to compare). Not fitted to a
    // Vivado run: they stay within the published XC7S15 figures of the Energy section of docs/hardware.md; FpgaPowerReport
    // scales them to the user's Vivado.
    public const double ClockTree = 8.0;          // BUFG + spine + the control's clock rows
    public const double ClockPerFf = 0.010;       // leaf clock load of one flip-flop
    public const double ClockPerLutRam = 0.020;   // clocked write port of one LUT used as memory
    public const double ClockPerBram18 = 0.50;    // clock pins of one RAMB18
    public const double ClockPerDsp = 0.20;       // clock pins of the DSP48E1's pipeline registers
    public const double LogicPerLut = 0.60;       // a logic LUT with its routed nets, per unit toggle rate
    public const double LogicPerFf = 0.15;        // a flip-flop's data input and output net, per unit toggle rate
    public const double LogicPerLutRam = 0.80;    // a LUT-RAM write, per unit toggle rate
    public const double Bram18 = 6.0;             // one RAMB18 enabled every clock
    public const double DspPerToggle = 12.0;      // a DSP48E1 multiply-add, per unit toggle rate

    /// <summary>Device static power at 25 °C, typical process: the XC7S15 figure of a routed design, scaled by LUTs.</summary>
    public const double Xc7s15StaticMw = 20.0;

    public static double StaticMw(Device device) => Xc7s15StaticMw * device.Capacity.Lut / 8000.0;

    /// <summary>The shipped model's components of one row before any calibration (mW).</summary>
    public static PowerComponents Row(Resources r, double toggleRate, double duty, double clockMHz, bool isControl)
    {
        double activity = toggleRate * duty;
        double clocks = ClockPerFf * r.Ff + ClockPerLutRam * r.LutRam + ClockPerBram18 * r.Bram18 + ClockPerDsp * r.Dsp + (isControl ? ClockTree : 0);
        double logic = activity * (LogicPerLut * Math.Max(0, r.Lut - r.LutRam) + LogicPerLutRam * r.LutRam + LogicPerFf * r.Ff);
        double bram = Bram18 * r.Bram18;
        double dsp = activity * DspPerToggle * r.Dsp;
        double mwPerUwPerMHz = clockMHz / 1000;
        return new PowerComponents(clocks * mwPerUwPerMHz, logic * mwPerUwPerMHz, bram * mwPerUwPerMHz, dsp * mwPerUwPerMHz);
    }

    /// <summary>The estimate of a design with the simulator's activity (null: the vectorless default) and a calibration.</summary>
    public static PowerEstimate Estimate(DesignEstimate design, PowerActivity? activity, PowerCalibration calibration)
    {
        double latencyCycles = Math.Max(1, design.LatencyCycles);
        long firstLayerCycles = design.Layers.FirstOrDefault(l => l.Name != "input" && l.Name != "control")?.Cycles ?? 0;
        var rows = new List<LayerPower>();
        // The engine works while its layers run, at their cycle-weighted activity.
        var onEngine = design.Layers.Where(l => l.OnEngine).ToList();
        long engineCycles = onEngine.Sum(l => l.Cycles);
        double engineToggle = engineCycles == 0 ? DefaultToggleRate
            : onEngine.Sum(l => (activity?.Of(l.Name) ?? DefaultToggleRate) * l.Cycles) / engineCycles;
        foreach (var l in design.Layers)
        {
            var (toggle, duty) = l.Name switch
            {
                "control" => (DefaultToggleRate, 1.0),
                ResourceModel.EngineRow => (engineToggle, engineCycles / latencyCycles),
                // The input buffer is read by the first layer only.
                "input" => (activity?.Input ?? DefaultToggleRate, firstLayerCycles / latencyCycles),
                // an instance that runs further layers works in their steps too
                _ => (activity?.Of(l.Name) ?? DefaultToggleRate, (l.Cycles + design.Layers.Where(j => j.RunsOn == l.Name).Sum(j => j.Cycles)) / latencyCycles),
            };
            var dynamic = Row(l.Resources, toggle, Math.Min(1, duty), design.ClockMHz, l.Name == "control").Scaled(calibration.Scales);
            rows.Add(new LayerPower(l.Name, toggle, Math.Min(1, duty), dynamic));
        }
        return new PowerEstimate(calibration.StaticMw ?? StaticMw(design.Device), rows, design.LatencyCycles / design.ClockMHz, calibration.Source);
    }
}
