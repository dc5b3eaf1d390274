using System.Globalization;
using System.Text;
using System.Text.Json;
using TransformerFpga.Hdl;
using TransformerFpga.Integer;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Hardware;

/// <summary>One row of resources.json: a layer with the buffer it writes, or the input buffer, or the control.</summary>
/// <param name="Multiplier">Where the MAC products of a linear, Q·Kᵀ or A·V layer are built after the Auto rule: "DSP" or "LUT"; null for other rows.</param>
/// <param name="HasWeightRom">Whether the layer has a weight ROM whose memory a WeightResource item chooses (the linear layers).</param>
/// <param name="Rom">
/// Where the layer's constant tables (weights and biases, gains, the exp table) go by the synthesis cost rule the
/// estimate follows: "Block" (RAMB18), "LUT", "Block+LUT" when some of each; null for a layer without tables.
/// </param>
/// <param name="OnEngine">The layer runs on the shared MAC engine (its row holds its buffer; the engine's logic is the engine row).</param>
/// <param name="EngineWeightBits">Bits of the layer's words in the engine's weight ROM (0 off the engine): the ROM a move of its weights to LUTs would build.</param>
/// <param name="RunsOn">The layer whose instance runs this one as a further job (its row holds the instance); null when it has its own.</param>
public sealed record LayerEstimate(string Name, int WeightBits, int ActivationBits, int Lanes, string BufferResource, Resources Resources, long Cycles,
    string? Multiplier = null, string? Rom = null, bool HasWeightRom = false, bool OnEngine = false, long EngineWeightBits = 0, string? RunsOn = null)
{
    /// <summary>The <see cref="Rom"/> value of a generated entity's ROMs.</summary>
    public static string? RomOf(VhdlModule entity)
    {
        // ROMs whose bits are all constant are removed by synthesis: they are in neither memory
        var roms = entity.Roms.Where(r => r.VaryingWidth > 0).ToList();
        int block = roms.Count(RomBlocks.IsBlock);
        return roms.Count == 0 ? null : block == roms.Count ? "Block" : block == 0 ? "LUT" : "Block+LUT";
    }
}

/// <summary>The estimate of a whole design against a device: per layer, in total, latency, and whether it fits.</summary>
public sealed record DesignEstimate(string Top, string Part, Device Device, double ClockMHz, double LimitPercent, IReadOnlyList<LayerEstimate> Layers, long LatencyCycles,
    DesignTiming Timing)
{
    /// <summary>The clock the design meets: ClockMHz, or the estimated Fmax when that is lower.</summary>
    public double MetClockMHz => Timing.MetClockMHz(ClockMHz);

    /// <summary>The requested clock is above what the critical path allows.</summary>
    public bool MissesClock => ClockMHz > Timing.FmaxMHz;

    /// <summary>Latency in µs at the clock the design meets.</summary>
    public double LatencyMicroseconds => LatencyCycles / MetClockMHz;

    public Resources Total => Layers.Aggregate(new Resources(), (sum, l) => sum + l.Resources);

    /// <summary>What the design may use of each resource: the device's capacity × the utilization limit.</summary>
    public Resources Budget => Scale(Device.Capacity, LimitPercent);

    public static Resources Scale(Resources capacity, double percent) => new(
        (int)Math.Floor(capacity.Lut * percent / 100), (int)Math.Floor(capacity.LutRam * percent / 100), (int)Math.Floor(capacity.Ff * percent / 100),
        (int)Math.Floor(capacity.Bram18 * percent / 100), (int)Math.Floor(capacity.Dsp * percent / 100));

    /// <summary>(name, used, available) of every resource over budget.</summary>
    public IReadOnlyList<(string Resource, int Used, int Available)> OverBudget
    {
        get
        {
            var t = Total;
            var b = Budget;
            return Resources.Names.Select(n => (n, t[n], b[n])).Where(r => r.Item2 > r.Item3).ToList();
        }
    }

    public bool Fits => OverBudget.Count == 0;

    /// <summary>
    /// Per layer row, how much more <paramref name="after"/> uses: the estimate of a plan that differs in some layers'
    /// choices. Layers' resources add up, so one such estimate gives the effect of changing each of those layers alone.
    /// </summary>
    public Dictionary<string, Resources> LayerChanges(DesignEstimate after)
    {
        var before = Layers.ToDictionary(l => l.Name, l => l.Resources, StringComparer.Ordinal);
        return after.Layers.ToDictionary(l => l.Name, l => l.Resources - before[l.Name], StringComparer.Ordinal);
    }

    /// <summary>Sum over resources of the share by which <paramref name="used"/> exceeds the budget; 0 when it fits.</summary>
    public static double Overflow(Resources used, Resources budget)
    {
        double sum = 0;
        foreach (var name in Resources.Names)
            if (used[name] > budget[name]) sum += (used[name] - budget[name]) / (double)Math.Max(1, budget[name]);
        return sum;
    }

    /// <summary>The buffer column of a layer whose output is not stored: a ReLU in its producer, a layer in the engine's write-back.</summary>
    public const string Fused = "Fused";

    public static DesignEstimate Build(IntegerTransformer model, LayerPlan plan, HdlGenerator.Design design, Func<string, string> hdlFile,
        Device device, string part, double clockMHz, double limitPercent, ResourceCoefficients coefficients)
    {
        var modules = ResourceModel.Modules(design, hdlFile);
        var byEntity = modules.ToDictionary(m => m.Entity, m => ResourceModel.Estimate(m, design, coefficients), StringComparer.Ordinal);
        var vhdlByEntity = modules.ToDictionary(m => m.Entity, m => m.Vhdl, StringComparer.Ordinal);
        var rows = new List<LayerEstimate>();
        var engine = design.Engine;
        foreach (var layer in model.Layers)
        {
            var choice = plan[layer.Name];
            var info = design.Layers.FirstOrDefault(l => l.Layer == layer);
            if (info is { OnEngine: true })
            {
                // A job with a write-back stores no output of its own: the last write-back layer's row holds the buffer.
                var job = engine!.JobOf(layer)!;
                bool stored = job.WriteBack.Count == 0;
                // its weights' memory: the ROM the job reads, as synthesis maps it
                string? rom = job.Weights is null ? null : RomBlocks.IsBlock(engine.WeightRomOf(job)) ? "Block" : "LUT";
                rows.Add(new LayerEstimate(layer.Name, layer.WeightBits, layer.ActivationBits, engine.Lanes, stored ? info.Output.Resource.ToString() : Fused,
                    stored ? byEntity[info.Output.Entity] : new Resources(), engine.Cycles(job) + HardwareModel.HandoffCycles, engine.MultiplierMapping,
                    rom, job.Weights is not null, OnEngine: true, EngineWeightBits: job.Weights is null ? 0 : (long)job.Outputs * job.Words * engine.Lanes * engine.BBits));
                continue;
            }
            if (engine?.WriteBackOf(layer) is { } writer && writer.Writes == layer)
            {
                var output = design.Layers.Single(l => l.Layer == writer.Layer).Output;
                rows.Add(new LayerEstimate(layer.Name, layer.WeightBits, layer.ActivationBits, 1, output.Resource.ToString(), byEntity[output.Entity], 0));
                continue;
            }
            // a layer another's instance runs holds only its buffer: the instance is that layer's row
            var instance = info is null ? null : design.InstanceOf(info);
            var resources = info is null ? new Resources() : (info.HasInstance ? byEntity[info.Entity] : new Resources()) + byEntity[info.Output.Entity];
            string buffer = info is null ? Fused : info.Output.Resource.ToString();
            string? multiplier = info is null || !HardwareModel.HasLanes(layer) ? null : info.LutMultipliers ? "LUT" : "DSP";
            rows.Add(new LayerEstimate(layer.Name, layer.WeightBits, layer.ActivationBits, HardwareModel.Lanes(layer, choice), buffer, resources, HardwareModel.Cycles(layer, plan, engine),
                multiplier, instance is null ? null : LayerEstimate.RomOf(vhdlByEntity[instance.Entity]), info?.Datapath.HasWeightRom ?? false,
                RunsOn: info is { HasInstance: false } ? instance!.Layer.Name : null));
        }
        if (engine is not null)
            rows.Add(new LayerEstimate(ResourceModel.EngineRow, 0, 0, engine.Lanes, "None", byEntity[design.EngineEntity], 0, engine.MultiplierMapping,
                LayerEstimate.RomOf(vhdlByEntity[design.EngineEntity])));
        rows.Add(new LayerEstimate("input", 0, design.Input.Width, 1, design.Input.Resource.ToString(), byEntity[design.Input.Entity], 0));
        rows.Add(new LayerEstimate("control", 0, 0, 1, "None", byEntity[design.Top], 0));
        return new DesignEstimate(design.Top, part, device, clockMHz, limitPercent, rows, HardwareModel.TotalCycles(model, plan), DesignTiming.Of(design));
    }

    /// <summary>report/resources.json; with <paramref name="power"/>, its power and energy fields too.</summary>
    public string Json(PowerEstimate? power = null)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("top", Top);
            json.WriteString("part", Part);
            json.WriteNumber("clock_mhz", ClockMHz);
            json.WriteNumber("utilization_limit_percent", LimitPercent);
            Device.Capacity.WriteObject(json, "capacity");
            Budget.WriteObject(json, "budget");
            Total.WriteObject(json, "total");
            json.WriteNumber("latency_cycles", LatencyCycles);
            json.WriteNumber("latency_us", LatencyMicroseconds);
            json.WriteNumber("fmax_mhz", Math.Round(Timing.FmaxMHz, 1));
            json.WriteString("critical_layer", Timing.Critical.Name);
            json.WriteString("critical_path", Timing.Critical.Description);
            json.WriteBoolean("fits", Fits);
            power?.WriteFields(json);
            json.WriteStartArray("layers");
            foreach (var l in Layers)
            {
                json.WriteStartObject();
                json.WriteString("name", l.Name);
                json.WriteNumber("weight_bits", l.WeightBits);
                json.WriteNumber("activation_bits", l.ActivationBits);
                json.WriteNumber("lanes", l.Lanes);
                json.WriteString("buffer_resource", l.BufferResource);
                if (l.Rom is null) json.WriteNull("rom");
                else json.WriteString("rom", l.Rom);
                if (l.Multiplier is null) json.WriteNull("multiplier");
                else json.WriteString("multiplier", l.Multiplier);
                if (l.RunsOn is not null) json.WriteString("runs_on", l.RunsOn);
                l.Resources.WriteFields(json);
                json.WriteNumber("cycles", l.Cycles);
                power?.WriteLayerField(json, l.Name);
                if (LayerFmax(l.Name) is double fmax) json.WriteNumber("fmax_mhz", Math.Round(fmax, 1));
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>Estimated Fmax of a row's layer (the control row: the sequencer); null for rows without logic of their own (fused layers, input).</summary>
    public double? LayerFmax(string name) => Timing.Layers.FirstOrDefault(t => t.Name == name)?.FmaxMHz;

    /// <summary>`fits xc7s15ftgb196-1 with 822 LUT, … to spare` or `does not fit …: LUT over by 1,234, …`.</summary>
    public string FitLine()
    {
        var t = Total;
        var b = Budget;
        string limit = LimitPercent < 100 ? string.Create(CultureInfo.InvariantCulture, $" at {LimitPercent:0.#} %") : "";
        if (Fits)
            return $"fits {Part}{limit} with " + string.Join(", ", Resources.Names.Select(n => string.Create(CultureInfo.InvariantCulture, $"{b[n] - t[n]:N0} {n}"))) + " to spare";
        return $"does not fit {Part}{limit}: " + string.Join(", ", OverBudget.Select(o => string.Create(CultureInfo.InvariantCulture, $"{o.Resource} over by {o.Used - o.Available:N0}")));
    }

    /// <summary>
    /// `LUT 6,120/8,000 (77 %) · FF … · BRAM18 … · DSP … · Fmax 48.2 MHz (critical: …) · 11,904 cycles = 247 µs @ 48.2 MHz`:
    /// the latency at the clock the design meets.
    /// </summary>
    public string SummaryLine()
    {
        var t = Total;
        var c = Device.Capacity;
        string Part(string name, int used, int available) =>
            string.Create(CultureInfo.InvariantCulture, $"{name} {used:N0}/{available:N0} ({(available == 0 ? 0 : 100.0 * used / available):0} %)");
        return string.Join(" · ", Part("LUT", t.Lut, c.Lut), Part("LUTRAM", t.LutRam, c.LutRam), Part("FF", t.Ff, c.Ff), Part("BRAM18", t.Bram18, c.Bram18), Part("DSP", t.Dsp, c.Dsp),
            Timing.Line(),
            string.Create(CultureInfo.InvariantCulture, $"{LatencyCycles:N0} cycles = {LatencyMicroseconds:0.#} µs @ {MetClockMHz:0.#} MHz"));
    }
}
