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

    /// <summary>
    /// engine.vhd's weight ROMs, one per memory a job's weights may be chosen in: its name, the register it is read into
    /// (the Yosys script finds a ROM as that register's driver) and the J_B_ROM code of the jobs that read it.
    /// </summary>
    public static readonly IReadOnlyList<(Pipeline.BufferResource Memory, string Name, string Register, int Code)> WeightRomSlots =
    [
        (Pipeline.BufferResource.Auto, "WEIGHTS", "w_rom_q", 1),
        (Pipeline.BufferResource.Block, "WEIGHTS_BRAM", "w_bram_q", 2),
        (Pipeline.BufferResource.Distributed, "WEIGHTS_LUT", "w_lut_q", 3),
    ];

    /// <summary>Clocks besides the issues: loading the descriptor, then after the last issue read data, operands, product, P, the accumulator, the requantizer's seven stages and the write.</summary>
    public const int DrainCycles = 14;

    /// <summary>Write-back stages at most per job (engine.vhd E_STAGES): a residual add and a batch norm after it.</summary>
    public const int MaxWriteBackStages = 2;

    /// <summary>Clocks an element spends in one write-back stage (engine.vhd E_DEPTH).</summary>
    public const int WriteBackDepth = 10;

    private MacEngine(int lanes, bool lutMultipliers, int lutLanes, IReadOnlyList<EngineJob> jobs)
    {
        Lanes = lanes;
        LutMultipliers = lutMultipliers;
        LutLanes = lutMultipliers ? lanes : Math.Clamp(lutLanes, 0, lanes);
        Jobs = jobs;
        int biasOffset = 0;
        var offsets = new Dictionary<Pipeline.BufferResource, int>();
        var weightBase = new Dictionary<EngineJob, int>();
        var biasBase = new Dictionary<EngineJob, int>();
        foreach (var job in jobs)
        {
            if (job.Weights is not null)
            {
                int offset = offsets.GetValueOrDefault(job.WeightMemory);
                weightBase[job] = offset;
                offsets[job.WeightMemory] = offset + job.Outputs * job.Words;
            }
            if (job.Bias is not null) { biasBase[job] = biasOffset; biasOffset += job.Outputs; }
        }
        WeightBase = weightBase;
        BiasBase = biasBase;
        WeightAddressDepth = offsets.Values.DefaultIfEmpty(0).Max();
        BiasWords = biasOffset;
    }

    public int Lanes { get; }
    /// <summary>Every multiplier (the lanes' and the requantizer's) is LUTs.</summary>
    public bool LutMultipliers { get; }
    /// <summary>Lanes whose multipliers are LUTs: the last ones; the others are DSP48E1.</summary>
    public int LutLanes { get; }
    /// <summary>Lanes on DSP48E1.</summary>
    public int DspLanes => Lanes - LutLanes;
    /// <summary>The multipliers column of the reports: DSP, LUT, or how many lanes are which.</summary>
    public string MultiplierMapping => LutLanes == 0 ? "DSP" : DspLanes == 0 ? "LUT" : $"DSP {DspLanes} + LUT {LutLanes}";
    /// <summary>The jobs in the order the sequencer runs them.</summary>
    public IReadOnlyList<EngineJob> Jobs { get; }
    /// <summary>First word of each job that reads a weight ROM, in the ROM of its <see cref="EngineJob.WeightMemory"/>.</summary>
    public IReadOnlyDictionary<EngineJob, int> WeightBase { get; }
    /// <summary>First bias ROM entry of each job with a bias.</summary>
    public IReadOnlyDictionary<EngineJob, int> BiasBase { get; }
    private IReadOnlyList<RomShape>? _weightRoms;

    /// <summary>The weight ROM <paramref name="job"/> reads (it must have weights).</summary>
    public RomShape WeightRomOf(EngineJob job) => WeightRoms[WeightRomSlots.Select(s => s.Memory).ToList().IndexOf(job.WeightMemory)];

    /// <summary>Words of the deepest weight ROM: the range of the weight address.</summary>
    public int WeightAddressDepth { get; }
    public int BiasWords { get; }

    /// <summary>Bits of an a lane: the widest a source.</summary>
    public int ABits => Jobs.Max(j => j.ABits);
    /// <summary>Bits of a b lane: the widest weight or b source.</summary>
    public int BBits => Jobs.Max(j => j.BBits);
    /// <summary>The accumulator holds every job's sums, and the lane tree's sum of products.</summary>
    public int AccumulatorBits => Math.Max(Jobs.Max(j => j.AccumulatorBits), ABits + BBits + IntegerMath.BitLength(Lanes));
    public int BiasBits => Vhdl.SignedWidth(Jobs.Where(j => j.Bias is not null).SelectMany(j => j.Bias!).Select(Math.Abs).DefaultIfEmpty(0).Max());
    public int M0Bits => Math.Max(1, IntegerMath.BitLength(Jobs.Max(j => j.M0)));
    /// <summary>Bits of the engine's write data and of its write-back stages' values.</summary>
    public int OutputBits => Jobs.Max(j => j.WrittenBits);

    /// <summary>Write-back stages the engine has: the most any job uses.</summary>
    public int WriteBackStages => Jobs.Max(j => j.WriteBack.Count);

    /// <summary>Clocks from the edge that samples start to the edge after which done is high.</summary>
    public long Cycles(EngineJob job) => job.Issues + DrainCycles + Layers.Linear.MacTiming.SumStages(Lanes) + (long)WriteBackDepth * job.WriteBack.Count;

    /// <summary>The job whose write-back runs <paramref name="layer"/>, or null.</summary>
    public EngineJob? WriteBackOf(QuantizedLayer layer) => Jobs.FirstOrDefault(j => j.WriteBack.Any(op => op.Layer == layer));

    /// <summary>Bits of the residual operands the write-back reads (1 when none does).</summary>
    public int ResidualBits => Jobs.SelectMany(j => j.WriteBack).Where(op => op.Residual is not null).Select(op => op.Residual!.Output.Bits).DefaultIfEmpty(1).Max();

    /// <summary>
    /// The jobs of the layers the engine runs, in layer order, with the element-wise layers after them in their
    /// write-backs; the V of every attention is written column-major for its context, and a pool's input for the pool.
    /// Throws NotSupportedException when the lanes are not a power of two or do not divide a job's reduction (the
    /// message names the layer and the lane counts that would).
    /// </summary>
    /// <remarks>
    /// A job's weights go to the memory the plan chose for its layer (a WeightResource item), or where it left that to
    /// Auto, to the engine's (<see cref="Pipeline.EngineSettings.Weights"/>).
    /// </remarks>
    public static MacEngine For(IntegerTransformer model, Pipeline.LayerPlan plan)
    {
        var settings = plan.Engine ?? throw new ArgumentException("the plan has no engine", nameof(plan));
        int lanes = settings.Lanes;
        if (lanes < 1 || (lanes & (lanes - 1)) != 0)
            throw new NotSupportedException($"the engine has {lanes} lanes; use a power of two (1, 2, 4, 8, 16, 32)");
        var jobs = model.Layers.Where(HardwareModel.HasHardware).Select(l => l.EngineJob(lanes, false)).OfType<EngineJob>().ToList();
        if (jobs.Count == 0) throw new NotSupportedException("the model has no layer the engine runs");
        for (int k = 0; k < jobs.Count; k++) jobs[k] = jobs[k] with { WriteBack = WriteBackChain(model, jobs[k]) };
        // A job that reads a source column-major (a context's V, a pool's input) needs the engine to write that source
        // so; where another writes it (a layer norm before the pool) the layer keeps its own datapath.
        foreach (var reader in jobs.Where(j => j.Layer.EngineTransposedSource is not null).ToList())
        {
            var source = reader.Layer.EngineTransposedSource!.BufferOwner;
            int writer = jobs.FindIndex(j => j.Writes == source);
            if (writer < 0 || jobs[writer].Heads != 1)
            {
                if (reader.Layer is ContextLayer) throw new NotSupportedException($"layer '{source.Name}' feeds an attention context, so it must run on the engine");
                jobs.Remove(reader);
                continue;
            }
            if (jobs[writer].EOutput == 1)
                jobs[writer] = jobs[writer].Layer.EngineJob(lanes, true)! with { WriteBack = jobs[writer].WriteBack };
        }
        for (int k = 0; k < jobs.Count; k++)
            if (jobs[k].Weights is not null)
                jobs[k] = jobs[k] with { WeightMemory = plan[jobs[k].Layer.Name].Weights is var chosen && chosen != Pipeline.BufferResource.Auto ? chosen : settings.Weights };
        return new MacEngine(lanes, settings.LutMultipliers, settings.LutLanes, jobs);
    }

    /// <summary>
    /// The element-wise layers that follow <paramref name="job"/>'s layer and can run in its write-back: each the only
    /// reader of the layer before it (whose buffer is then never needed), at most <see cref="MaxWriteBackStages"/>, a
    /// residual operand only in the first stage and never from a buffer the job itself reads.
    /// </summary>
    private static IReadOnlyList<EngineElementOp> WriteBackChain(IntegerTransformer model, EngineJob job)
    {
        var ops = new List<EngineElementOp>();
        if (job.Heads != 1 || job.EOutput != 1 || job.ERow != job.Outputs) return ops;
        var current = job.Layer;
        while (ops.Count < MaxWriteBackStages && current != model.OutputLayer)
        {
            var readers = model.Layers.Where(l => l.Sources.Contains(current)).ToList();
            if (readers.Count != 1 || readers[0].EngineWriteBack(current) is not { } op) break;
            if (op.Residual is { } residual && (ops.Count > 0 || residual.BufferOwner == job.ASource || residual.BufferOwner == job.BSource)) break;
            ops.Add(op);
            current = op.Layer;
        }
        return ops;
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
            if (job.Writes == layer) elements = Math.Max(elements, 1 + (job.Heads - 1L) * job.EHead + (job.Rows - 1L) * job.ERow + (job.Outputs - 1L) * job.EOutput);
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

    /// <summary>A weight ROM's words in address order, lane by lane: each of its linear jobs' outputs, a word of lanes consecutive inputs each.</summary>
    private IEnumerable<int[]> WeightWordValues(Pipeline.BufferResource memory)
    {
        foreach (var job in Jobs.Where(j => j.Weights is not null && j.WeightMemory == memory))
        {
            int inputs = job.Words * Lanes;
            for (int n = 0; n < job.Outputs; n++)
                for (int w = 0; w < job.Words; w++)
                    yield return job.Weights!.AsSpan(n * inputs + w * Lanes, Lanes).ToArray();
        }
    }

    /// <summary>
    /// The weight ROMs as engine.vhd declares them (at least two words each, all zeros when no job's weights are in that
    /// memory), with the bit columns that vary over each (synthesis removes the others).
    /// </summary>
    public IReadOnlyList<RomShape> WeightRoms => _weightRoms ??= WeightRomSlots.Select(slot =>
    {
        var words = WeightWordValues(slot.Memory).ToList();
        int bb = BBits, width = Lanes * bb, varying = 0;
        long mask = (1L << bb) - 1;
        for (int l = 0; l < Lanes; l++)
        {
            long ones = 0, zeros = 0;
            foreach (var w in words) { ones |= w[l] & mask; zeros |= ~w[l] & mask; }
            if (words.Count < 2) zeros |= mask; // the zero padding word
            varying += System.Numerics.BitOperations.PopCount((ulong)(ones & zeros));
        }
        return new RomShape(slot.Name, Math.Max(words.Count, 2), width, varying, slot.Memory);
    }).ToList();

    /// <summary>The write-back stages' widths (see engine.vhd): gains, offsets, the residual multiplier and the sum that holds every stage's value.</summary>
    public (int Gain, int Offset, int ResidualGain, int Sum) WriteBackWidths()
    {
        var ops = Jobs.SelectMany(j => j.WriteBack).ToList();
        int gain = Math.Max(2, ops.SelectMany(op => op.Gains).Select(Vhdl.SignedWidth).DefaultIfEmpty(2).Max());
        int offset = Math.Max(2, ops.SelectMany(op => op.Offsets).Select(Vhdl.SignedWidth).DefaultIfEmpty(2).Max());
        long ms = ops.Select(op => op.ResidualGain).DefaultIfEmpty(0).Max();
        int residualGain = Math.Max(1, IntegerMath.BitLength(ms));
        int yb = OutputBits, sb = ResidualBits;
        int sum = Math.Max(yb + gain, sb + residualGain + 1) + 1;
        foreach (var job in Jobs)
        {
            int xb = job.OutputBits;
            foreach (var op in job.WriteBack)
            {
                // |x·gain| + |s·MS| + |offset| for the widest x and s of the stage
                var bound = (System.Numerics.BigInteger.One << (xb - 1)) * op.Gains.Max(g => Math.Abs(g))
                    + (op.Residual is null ? 0 : (System.Numerics.BigInteger.One << (op.Residual.Output.Bits - 1)) * op.ResidualGain)
                    + op.Offsets.Max(o => System.Numerics.BigInteger.Abs(o));
                sum = Math.Max(sum, (int)bound.GetBitLength() + 1);
                xb = op.OutputBits;
            }
        }
        return (gain, offset, residualGain, sum);
    }

    /// <summary>The first entry of each (job, stage)'s gains and offsets in the stage's tables.</summary>
    private (Dictionary<(EngineJob, int), int> Gain, Dictionary<(EngineJob, int), int> Offset) WriteBackBases()
    {
        var gain = new Dictionary<(EngineJob, int), int>();
        var offset = new Dictionary<(EngineJob, int), int>();
        for (int st = 0; st < MaxWriteBackStages; st++)
        {
            int g = 0, o = 0;
            foreach (var job in Jobs.Where(j => j.WriteBack.Count > st))
            {
                gain[(job, st)] = g; g += job.WriteBack[st].Gains.Length;
                offset[(job, st)] = o; o += job.WriteBack[st].Offsets.Length;
            }
        }
        return (gain, offset);
    }

    private IEnumerable<string> WriteBackConstants()
    {
        var (gainBits, offsetBits, msBits, sumBits) = WriteBackWidths();
        var (gainBase, offsetBase) = WriteBackBases();
        int stages = WriteBackStages, slots = Math.Max(stages, 1);
        string Vector(IEnumerable<long> values) => Vhdl.Aggregate(values.Select(Vhdl.Int), "    ", 16);
        string PerJob(string name, Func<EngineJob, long> value) => Vhdl.Constant(name, "integer_vector", Vector(Jobs.Select(value)));
        // per (job, stage), the stage's fields; 0 (and no rounding bit) where the job has no such stage
        string PerStage(string name, Func<EngineJob, int, EngineElementOp, long> value, long none = 0) => Vhdl.Constant(name, "integer_vector",
            Vector(Jobs.SelectMany(j => Enumerable.Range(0, slots).Select(st => st < j.WriteBack.Count ? value(j, st, j.WriteBack[st]) : none))));
        return [
            Vhdl.Natural("E_STAGES", stages),
            Vhdl.Natural("E_RESIDUAL", Jobs.Any(j => j.WriteBack.Any(op => op.Residual is not null)) ? 1 : 0),
            Vhdl.Positive("E_SLOTS", slots),
            Vhdl.Positive("E_GAIN_BITS", gainBits),
            Vhdl.Positive("E_OFF_BITS", offsetBits),
            Vhdl.Positive("E_MS_BITS", msBits),
            Vhdl.Positive("E_SUM_BITS", sumBits),
            Vhdl.Positive("E_G_DEPTH", WriteBackTableDepth(op => op.Gains.Length)),
            Vhdl.Positive("E_O_DEPTH", WriteBackTableDepth(op => op.Offsets.Length)),
            PerJob("J_OPS", j => j.WriteBack.Count),
            PerJob("J_S_R", j => j.WriteBack.FirstOrDefault(op => op.Residual is not null)?.Residual is { } r ? RowPitch(r.BufferOwner) : 0),
            PerStage("P_G_BASE", (j, st, _) => gainBase[(j, st)]),
            PerStage("P_G_N", (_, _, op) => op.GainStep),
            PerStage("P_O_BASE", (j, st, _) => offsetBase[(j, st)]),
            PerStage("P_O_R", (_, _, op) => op.OffsetRow),
            PerStage("P_O_N", (_, _, op) => op.OffsetStep),
            PerStage("P_MS", (_, _, op) => op.ResidualGain),
            // a shift past the sum's width rounds everything to 0, as shifting by one more does
            PerStage("P_SHIFT", (_, _, op) => Math.Min(op.Shift, sumBits + 1)),
            PerStage("P_HALF", (_, _, op) => op.Shift is > 0 && op.Shift <= sumBits + 1 ? op.Shift - 1 : -1, -1),
            PerStage("P_LIMIT", (_, _, op) => (1L << (op.OutputBits - 1)) - 1),
            PerStage("P_LIMIT_NEG", (_, _, op) => 1L << (op.OutputBits - 1)),
        ];
    }

    /// <summary>Entries of the longest stage's table (the range of the tables' addresses), at least two.</summary>
    private int WriteBackTableDepth(Func<EngineElementOp, int> entries) =>
        Math.Max(2, Enumerable.Range(0, MaxWriteBackStages).Max(st => Jobs.Where(j => j.WriteBack.Count > st).Sum(j => entries(j.WriteBack[st]))));

    /// <summary>Elements from one row of <paramref name="layer"/>'s buffer to the next.</summary>
    private int RowPitch(QuantizedLayer layer) => OutputPitch(layer, layer.Columns) is var pitch && pitch != 0 ? pitch : layer.Columns;

    /// <summary>The write-back stages' gain and offset tables (E1_GAINS, E1_OFFSETS, E2_…), at least two entries each.</summary>
    internal IEnumerable<string> WriteBackRomLines() => WriteBackRoms();

    private IEnumerable<string> WriteBackRoms()
    {
        var (gainBits, offsetBits, _, _) = WriteBackWidths();
        for (int st = 0; st < MaxWriteBackStages; st++)
        {
            var ops = Jobs.Where(j => j.WriteBack.Count > st).Select(j => j.WriteBack[st]).ToList();
            string Table(IEnumerable<long> values, int bits, int depth) => Vhdl.Aggregate(values.Select(v => Vhdl.Bits(v, bits)), "    ", 8, depth, Vhdl.Bits(0, bits));
            yield return Vhdl.Constant($"E{st + 1}_GAINS", "grom_t", Table(ops.SelectMany(op => op.Gains), gainBits, 2));
            yield return Vhdl.Constant($"E{st + 1}_OFFSETS", "orom_t", Table(ops.SelectMany(op => op.Offsets), offsetBits, 2));
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
        var weightWords = WeightRomSlots.Select(slot => WeightWordValues(slot.Memory).Select(w => Word(l => w[l])).ToList()).ToList();
        var biasEntries = Jobs.Where(j => j.Bias is not null).SelectMany(j => j.Bias!).Select(b => Vhdl.Bits(b, biasBits)).ToList();
        int biasDepth = Math.Max(biasEntries.Count, 2);
        template.SetRegion("constants", Vhdl.Lines(
            Vhdl.Positive("LANES", Lanes),
            Vhdl.Natural("DSP_LANES", DspLanes),
            Vhdl.Positive("ACC_BITS", AccumulatorBits),
            Vhdl.Positive("BIAS_BITS", BiasBits),
            Vhdl.Positive("M0_BITS", M0Bits),
            Vhdl.Positive("COUNT_MAX", Math.Max(countMax, 1)),
            Vhdl.Positive("W_DEPTH", Math.Max(weightWords[0].Count, 2)),
            Vhdl.Positive("W_BRAM_DEPTH", Math.Max(weightWords[1].Count, 2)),
            Vhdl.Positive("W_LUT_DEPTH", Math.Max(weightWords[2].Count, 2)),
            Vhdl.Positive("B_DEPTH", biasDepth),
            Vhdl.Positive("N_JOBS", Jobs.Count),
            Vhdl.Constant("JOB_OF_STEP", "integer_vector", Vector(jobOfStep.Select(v => (long)v))),
            Field("J_H", j => j.Heads - 1),
            Field("J_R", j => j.Rows - 1),
            Field("J_N", j => j.Outputs - 1),
            Field("J_J", j => j.Words - 1),
            Field("J_A_H", j => j.AHead),
            Field("J_A_R", j => j.ARow),
            Field("J_B_ROM", j => j.Weights is null ? 0 : WeightRomSlots.Single(slot => slot.Memory == j.WeightMemory).Code),
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
            Field("J_RELU", j => j.Relu ? 1 : 0)).Concat(Vhdl.Lines([.. WriteBackConstants()])));

        var writeBackRoms = WriteBackRoms();
        string Rom(int slot) => Vhdl.Aggregate(weightWords[slot], "    ", 4, 2, Word(_ => 0));
        string biasRom = Vhdl.Constant("BIAS", "brom_t", Vhdl.Aggregate(biasEntries, "    ", 8, 2, Vhdl.Bits(0, biasBits)));
        // A chosen memory is a rom_style attribute, which Vivado reads from a ROM signal (not a constant).
        template.SetRegion("rom", Vhdl.Lines([
            Vhdl.Constant("WEIGHTS", "wrom_t", Rom(0)),
            $"signal WEIGHTS_BRAM : wbrom_t := {Rom(1)};",
            $"signal WEIGHTS_LUT : wlrom_t := {Rom(2)};",
            "attribute rom_style : string;",
            $"attribute rom_style of WEIGHTS_BRAM : signal is \"{HdlGenerator.RamStyle(Pipeline.BufferResource.Block)}\";",
            $"attribute rom_style of WEIGHTS_LUT : signal is \"{HdlGenerator.RamStyle(Pipeline.BufferResource.Distributed)}\";",
            biasRom, .. writeBackRoms]));
    }
}
