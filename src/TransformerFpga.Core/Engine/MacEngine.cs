using TransformerFpga.Hardware;
using TransformerFpga.Hdl;
using TransformerFpga.Integer;
using TransformerFpga.Layers;
using TransformerFpga.Layers.Attention;
using TransformerFpga.Quantization;

namespace TransformerFpga.Engine;

/// <summary>
/// The shared MAC engine of the Engine architecture (template engine.vhd): one array of lanes and one requantizer
/// that run, one after another, the jobs of the layers the engine takes (<see cref="QuantizedLayer.EngineJob"/>),
/// each from its row of a descriptor table chosen by the sequencer's step.
/// </summary>
public sealed class MacEngine
{
    public const string Template = "engine.vhd";
    public const string TemplateEntity = "tfpga_engine";

    /// <summary>The register engine.vhd reads its weight ROM into (the Yosys script finds the ROM as its driver).</summary>
    public const string WeightReadRegister = "w_rom_q";

    /// <summary>Clocks besides the issues: loading the descriptor, then after the last issue read data, operands, product, P, the accumulator, the requantizer's seven stages and the write.</summary>
    public const int DrainCycles = 14;

    private MacEngine(int lanes, bool lutMultipliers, int lutLanes, Pipeline.BufferResource weights, IReadOnlyList<EngineJob> jobs)
    {
        Lanes = lanes;
        LutMultipliers = lutMultipliers;
        LutLanes = lutMultipliers ? lanes : Math.Clamp(lutLanes, 0, lanes);
        Weights = weights;
        Jobs = jobs;
        int offset = 0, biasOffset = 0;
        var weightBase = new Dictionary<EngineJob, int>();
        var biasBase = new Dictionary<EngineJob, int>();
        foreach (var job in jobs)
        {
            if (job.Weights is not null) { weightBase[job] = offset; offset += job.Outputs * job.Words; }
            if (job.Bias is not null) { biasBase[job] = biasOffset; biasOffset += job.Outputs; }
        }
        WeightBase = weightBase;
        BiasBase = biasBase;
        WeightWords = offset;
        BiasWords = biasOffset;
    }

    public int Lanes { get; }
    /// <summary>Every multiplier (the lanes' and the requantizer's) is LUTs.</summary>
    public bool LutMultipliers { get; }
    /// <summary>Lanes whose multipliers are LUTs: the last ones; the others are DSP48E1.</summary>
    public int LutLanes { get; }
    /// <summary>Lanes on DSP48E1.</summary>
    public int DspLanes => Lanes - LutLanes;
    /// <summary>The weight ROM's memory (Auto: synthesis' rule).</summary>
    public Pipeline.BufferResource Weights { get; }
    /// <summary>The multipliers column of the reports: DSP, LUT, or how many lanes are which.</summary>
    public string MultiplierMapping => LutLanes == 0 ? "DSP" : DspLanes == 0 ? "LUT" : $"DSP {DspLanes} + LUT {LutLanes}";
    /// <summary>The jobs in the order the sequencer runs them.</summary>
    public IReadOnlyList<EngineJob> Jobs { get; }
    /// <summary>First weight ROM word of each job that reads the ROM.</summary>
    public IReadOnlyDictionary<EngineJob, int> WeightBase { get; }
    /// <summary>First bias ROM entry of each job with a bias.</summary>
    public IReadOnlyDictionary<EngineJob, int> BiasBase { get; }
    public int WeightWords { get; }
    public int BiasWords { get; }

    /// <summary>Bits of an a lane: the widest a source.</summary>
    public int ABits => Jobs.Max(j => j.ABits);
    /// <summary>Bits of a b lane: the widest weight or b source.</summary>
    public int BBits => Jobs.Max(j => j.BBits);
    /// <summary>The accumulator holds every job's sums, and the lane tree's sum of products.</summary>
    public int AccumulatorBits => Math.Max(Jobs.Max(j => j.AccumulatorBits), ABits + BBits + IntegerMath.BitLength(Lanes));
    public int BiasBits => Vhdl.SignedWidth(Jobs.Where(j => j.Bias is not null).SelectMany(j => j.Bias!).Select(Math.Abs).DefaultIfEmpty(0).Max());
    public int M0Bits => Math.Max(1, IntegerMath.BitLength(Jobs.Max(j => j.M0)));
    public int OutputBits => Jobs.Max(j => j.OutputBits);

    /// <summary>Clocks from the edge that samples start to the edge after which done is high.</summary>
    public long Cycles(EngineJob job) => job.Issues + DrainCycles + Layers.Linear.MacTiming.SumStages(Lanes);

    /// <summary>
    /// The jobs of the layers the engine runs, in layer order; the V of every attention is written column-major for
    /// its context. Throws NotSupportedException when the lanes are not a power of two or do not divide a job's
    /// reduction (the message names the layer and the lane counts that would).
    /// </summary>
    public static MacEngine For(IntegerTransformer model, Pipeline.EngineSettings settings)
    {
        int lanes = settings.Lanes;
        if (lanes < 1 || (lanes & (lanes - 1)) != 0)
            throw new NotSupportedException($"the engine has {lanes} lanes; use a power of two (1, 2, 4, 8, 16, 32)");
        var transposed = model.Layers.OfType<ContextLayer>().Select(c => c.Sources[1].BufferOwner).ToHashSet();
        var jobs = new List<EngineJob>();
        foreach (var layer in model.Layers.Where(HardwareModel.HasHardware))
        {
            var job = layer.EngineJob(lanes, transposed.Contains(layer));
            if (job is not null) jobs.Add(job);
            else if (transposed.Contains(layer))
                throw new NotSupportedException($"layer '{layer.Name}' feeds an attention context, so it must run on the engine");
        }
        if (jobs.Count == 0) throw new NotSupportedException("the model has no layer the engine runs");
        return new MacEngine(lanes, settings.LutMultipliers, settings.LutLanes, settings.Weights, jobs);
    }

    /// <summary>Lanes of an engine when FpgaEngineLanes is not set: the most that divide the model, up to this.</summary>
    public const int DefaultMaxLanes = 16;

    /// <summary>
    /// The lane counts an engine for <paramref name="config"/> may have: powers of two that divide the reductions over
    /// features it runs (the head dimension, the FFN width and so d_model). The window need not: rows along it are
    /// padded to whole words.
    /// </summary>
    public static IReadOnlyList<int> ValidLanes(Model.ModelConfig config) =>
        Enumerable.Range(0, 7).Select(k => 1 << k)
            .Where(l => l <= Pipeline.LayerPlan.MaxLanes && config.HeadDim % l == 0 && config.FfnDim % l == 0).ToList();

    /// <summary>
    /// Elements <paramref name="layer"/>'s buffer (null: the input window's) holds in an engine design: its
    /// <paramref name="elements"/>, or more where the engine reads or writes its rows padded to whole words (the input
    /// window, the probabilities and V of an attention).
    /// </summary>
    public long StoredElements(QuantizedLayer? layer, long elements)
    {
        foreach (var job in Jobs)
        {
            if (job.ASource == layer) elements = Math.Max(elements, Lanes * (1 + (job.Heads - 1L) * job.AHead + (job.Rows - 1L) * job.ARow + job.Words - 1));
            if (layer is not null && job.BSource == layer) elements = Math.Max(elements, Lanes * (1 + (job.Heads - 1L) * job.BHead + (job.Outputs - 1L) * job.BOutput + job.Words - 1));
            if (job.Layer == layer) elements = Math.Max(elements, 1 + (job.Heads - 1L) * job.EHead + (job.Rows - 1L) * job.ERow + (job.Outputs - 1L) * job.EOutput);
        }
        return elements;
    }

    /// <summary>
    /// Elements from one row of <paramref name="columns"/> of <paramref name="layer"/> (null: the input window) to the
    /// next where a job reads its rows padded to whole words, or 0 when the rows lie back to back.
    /// </summary>
    public int OutputPitch(QuantizedLayer? layer, int columns) =>
        Jobs.FirstOrDefault(j => j.ASource == layer) is { } reader && reader.ARow * Lanes != columns ? reader.ARow * Lanes : 0;

    /// <summary>Whether a job reads the model's input window (the embedding).</summary>
    public bool ReadsInput => Jobs.Any(j => j.ASource is null);

    /// <summary>The job of <paramref name="layer"/>, or null when it keeps a datapath of its own.</summary>
    public EngineJob? JobOf(QuantizedLayer layer) => Jobs.FirstOrDefault(j => j.Layer == layer);

    /// <summary>The weight ROM's words in address order, lane by lane: each linear job's outputs, a word of lanes consecutive inputs each.</summary>
    private IEnumerable<int[]> WeightWordValues()
    {
        foreach (var job in Jobs.Where(j => j.Weights is not null))
        {
            int inputs = job.Words * Lanes;
            for (int n = 0; n < job.Outputs; n++)
                for (int w = 0; w < job.Words; w++)
                    yield return job.Weights!.AsSpan(n * inputs + w * Lanes, Lanes).ToArray();
        }
    }

    /// <summary>The weight ROM as engine.vhd declares it (at least two words), with the bit columns that vary over it (synthesis removes the others).</summary>
    public RomShape WeightRom
    {
        get
        {
            var words = WeightWordValues().ToList();
            int bb = BBits, width = Lanes * bb, varying = 0;
            long mask = (1L << bb) - 1;
            for (int l = 0; l < Lanes; l++)
            {
                long ones = 0, zeros = 0;
                foreach (var w in words) { ones |= w[l] & mask; zeros |= ~w[l] & mask; }
                if (words.Count < 2) zeros |= mask; // the zero padding word
                varying += System.Numerics.BitOperations.PopCount((ulong)(ones & zeros));
            }
            return new RomShape("WEIGHTS", Math.Max(words.Count, 2), width, varying, Weights);
        }
    }

    /// <summary>Sets engine.vhd's constants and ROMs; <paramref name="stepOf"/> gives each job's sequencer step.</summary>
    public void Fill(VhdlTemplate template, int steps, Func<EngineJob, int> stepOf)
    {
        Multipliers.Fill(template, LutMultipliers);
        var jobOfStep = new int[steps];
        for (int k = 0; k < Jobs.Count; k++) jobOfStep[stepOf(Jobs[k])] = k;
        int requantBits = AccumulatorBits + M0Bits;
        long countMax = Jobs.Max(j => Math.Max(Math.Max(j.Heads, j.Rows), Math.Max(j.Outputs, j.Words))) - 1;
        string Vector(IEnumerable<long> values) => Vhdl.Aggregate(values.Select(Vhdl.Int), "    ", 16);
        string Field(string name, Func<EngineJob, long> value) => Vhdl.Constant(name, "integer_vector", Vector(Jobs.Select(value)));
        int bb = BBits, biasBits = BiasBits;
        string Word(Func<int, long> lane) =>
            "\"" + string.Concat(Enumerable.Range(0, Lanes).Reverse().Select(l => Vhdl.Bits(lane(l), bb)[1..^1])) + "\"";
        var weightWords = WeightWordValues().Select(w => Word(l => w[l])).ToList();
        var biasEntries = Jobs.Where(j => j.Bias is not null).SelectMany(j => j.Bias!).Select(b => Vhdl.Bits(b, biasBits)).ToList();
        int weightDepth = Math.Max(weightWords.Count, 2), biasDepth = Math.Max(biasEntries.Count, 2);
        template.SetRegion("constants", Vhdl.Lines(
            Vhdl.Positive("LANES", Lanes),
            Vhdl.Natural("DSP_LANES", DspLanes),
            Vhdl.Positive("ACC_BITS", AccumulatorBits),
            Vhdl.Positive("BIAS_BITS", BiasBits),
            Vhdl.Positive("M0_BITS", M0Bits),
            Vhdl.Positive("COUNT_MAX", Math.Max(countMax, 1)),
            Vhdl.Positive("W_DEPTH", weightDepth),
            Vhdl.Positive("B_DEPTH", biasDepth),
            Vhdl.Positive("N_JOBS", Jobs.Count),
            Vhdl.Constant("JOB_OF_STEP", "integer_vector", Vector(jobOfStep.Select(v => (long)v))),
            Field("J_H", j => j.Heads - 1),
            Field("J_R", j => j.Rows - 1),
            Field("J_N", j => j.Outputs - 1),
            Field("J_J", j => j.Words - 1),
            Field("J_A_H", j => j.AHead),
            Field("J_A_R", j => j.ARow),
            Field("J_B_ROM", j => j.Weights is null ? 0 : 1),
            Field("J_B_BASE", j => WeightBase.TryGetValue(j, out int b) ? b : 0),
            Field("J_B_H", j => j.BHead),
            Field("J_B_N", j => j.BOutput),
            Field("J_E_H", j => j.EHead),
            Field("J_E_R", j => j.ERow),
            Field("J_E_N", j => j.EOutput),
            Field("J_BIAS_ON", j => BiasBase.ContainsKey(j) ? 1 : 0),
            Field("J_BIAS", j => BiasBase.TryGetValue(j, out int b) ? b : 0),
            Field("J_M0", j => j.M0),
            // a shift past the product's width rounds everything to 0, as shifting by one more does
            Field("J_SHIFT", j => Math.Min(j.Shift, requantBits + 1)),
            Field("J_HALF", j => j.Shift is > 0 && j.Shift <= requantBits + 1 ? j.Shift - 1 : -1),
            Field("J_LIMIT", j => (1L << (j.OutputBits - 1)) - 1),
            Field("J_LIMIT_NEG", j => 1L << (j.OutputBits - 1)),
            Field("J_RELU", j => j.Relu ? 1 : 0)));

        string weightRom = Vhdl.Aggregate(weightWords, "    ", 4, 2, Word(_ => 0));
        string biasRom = Vhdl.Constant("BIAS", "brom_t", Vhdl.Aggregate(biasEntries, "    ", 8, 2, Vhdl.Bits(0, biasBits)));
        template.SetRegion("rom", Weights == Pipeline.BufferResource.Auto
            ? Vhdl.Lines(Vhdl.Constant("WEIGHTS", "wrom_t", weightRom), biasRom)
            : Vhdl.Lines(
                $"signal WEIGHTS : wrom_t := {weightRom};",
                "attribute rom_style : string;",
                $"attribute rom_style of WEIGHTS : signal is \"{HdlGenerator.RamStyle(Weights)}\";",
                biasRom));
    }
}
