using TransformerFpga.Diagnostics;
using TransformerFpga.Hardware;
using TransformerFpga.Integer;
using TransformerFpga.Layers;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Hdl;

/// <summary>
/// The latency model of the generated hardware, exact to the clock edge (the GHDL testbench counts
/// the same number), and the per-layer hardware rules (lanes, buffer memory).
/// </summary>
public static class HardwareModel
{
    /// <summary>The sequencer spends two clocks between a layer's done and the next layer's start sample (and on the final done).</summary>
    public const int HandoffCycles = 2;

    /// <summary>
    /// The longest register-to-register path of the top (tfpga_top.vhd, tfpga_rdmux.vhd): the sequencer selecting
    /// the active layer's done among <paramref name="layers"/> (a LUT6 / MUXF7 / MUXF8 tree over the step) into
    /// the step and start registers, and a buffer's read address chosen among <paramref name="readers"/> by step
    /// (compare, then a 4:1 mux level per LUT) into a LUT-RAM of <paramref name="lutRamDepth"/> words read into
    /// the buffer's rd_data register (block RAM address setup is shorter).
    /// </summary>
    public static TimingPath SequencerPath(int layers, int readers, long lutRamDepth)
    {
        var done = TimingPath.FromRegister().Luts(1);
        if (layers > 4) done.MuxF7();
        if (layers > 8) done.MuxF7();
        for (long inputs = 16; inputs < layers; inputs *= 4) done.Luts(1);
        done.Luts(1).ToRegister(); // the step increment's enable and the next start's decode
        var read = TimingPath.FromRegister().Luts(1);
        for (int inputs = 1; inputs < readers; inputs *= 4) read.Luts(1);
        read.LutRamRead();
        if (lutRamDepth > 64) read.MuxF7();
        if (lutRamDepth > 128) read.MuxF7();
        for (long words = 256; words < lutRamDepth; words *= 4) read.Luts(1);
        read.ToRegister();
        return done.Nanoseconds >= read.Nanoseconds ? done : read;
    }

    /// <summary>Buffers of at least this many bits become block RAM when the plan says Auto.</summary>
    public const int AutoBlockRamBits = 1024;

    /// <summary>Layers with hardware of their own (a fused ReLU has none).</summary>
    public static bool HasHardware(QuantizedLayer layer) => layer.BufferOwner == layer;

    /// <summary>The dimension a layer's MAC lanes split, which the lanes must divide (see <see cref="LayerDatapath.ParallelSize"/>); 1 for layers without lanes.</summary>
    public static int ParallelSize(QuantizedLayer layer) => layer.Datapath?.ParallelSize ?? 1;

    /// <summary>The lane counts a layer accepts: the divisors of <see cref="ParallelSize"/> up to <see cref="LayerPlan.MaxLanes"/>.</summary>
    public static IEnumerable<int> ValidLanes(QuantizedLayer layer) =>
        Enumerable.Range(1, Math.Min(ParallelSize(layer), LayerPlan.MaxLanes)).Where(d => ParallelSize(layer) % d == 0);

    /// <summary>
    /// MAC lanes the hardware uses: the plan's lanes for linear, scores and context layers (1 for every other
    /// kind). Lanes that do not divide <see cref="ParallelSize"/> become the largest divisor below them when they
    /// are a default; explicit ones are rejected by <see cref="ValidateLanes"/>.
    /// </summary>
    public static int Lanes(QuantizedLayer layer, LayerChoice choice)
    {
        int size = ParallelSize(layer);
        if (size == 1) return 1;
        int lanes = Math.Clamp(choice.Lanes, 1, size);
        while (size % lanes != 0) lanes--;
        return lanes;
    }

    /// <summary>Whether a layer has MAC lanes (and so a lane count and a multiplier mapping of its own).</summary>
    public static bool HasLanes(QuantizedLayer layer) => layer.Datapath?.HasLanes ?? false;

    /// <summary>Multiply operators the layer's template writes (per lane plus the requantizer's for layers with lanes).</summary>
    public static int Multipliers(QuantizedLayer layer, int lanes) => layer.Datapath?.MultiplierCount(lanes) ?? 0;

    /// <summary>Cycles of the layer alone: from the edge that samples its start to the edge after which its done is high.</summary>
    public static long LayerCycles(QuantizedLayer layer, int lanes, bool lutMultipliers = false) => layer.Datapath?.Cycles(lanes, lutMultipliers) ?? 0;

    /// <summary>Whether a layer's MAC multipliers are built from LUTs (Multiplier = Lut); Auto is DSP for now.</summary>
    public static bool LutMultipliers(LayerChoice choice) => choice.Multiplier == MultiplierMapping.Lut;

    /// <summary>A layer's share of the total latency: its own cycles plus the sequencer hand-off; 0 for fused layers.</summary>
    public static long Cycles(QuantizedLayer layer, LayerChoice choice) =>
        HasHardware(layer) ? LayerCycles(layer, Lanes(layer, choice), LutMultipliers(choice)) + HandoffCycles : 0;

    /// <summary>Clock cycles of one inference as the testbench counts them (start sample to done); the sum of <see cref="Cycles"/>.</summary>
    /// <remarks>
    /// In an Engine design the engine's jobs take <see cref="Engine.MacEngine.Cycles"/> each instead of their layers' own
    /// datapaths', and the layers in a job's write-back take none of their own.
    /// </remarks>
    public static long TotalCycles(IntegerTransformer model, LayerPlan plan)
    {
        var engine = plan.Engine is not null ? Engine.MacEngine.For(model, plan) : null;
        return model.Layers.Sum(l => Cycles(l, plan, engine));
    }

    /// <summary>A layer's share of the total latency in a design with <paramref name="engine"/> (null: Layers).</summary>
    public static long Cycles(QuantizedLayer layer, LayerPlan plan, Engine.MacEngine? engine) =>
        engine?.JobOf(layer) is { } job ? engine.Cycles(job) + HandoffCycles
        : engine?.WriteBackOf(layer) is not null ? 0
        : Cycles(layer, plan[layer.Name]);

    /// <summary>The memory a buffer uses: the plan's choice, or for Auto block RAM from <see cref="AutoBlockRamBits"/> bits on.</summary>
    public static BufferResource Buffer(long depth, int width, BufferResource choice) =>
        choice != BufferResource.Auto ? choice : depth * width >= AutoBlockRamBits ? BufferResource.Block : BufferResource.Distributed;

    /// <summary>Throws TFPGA024 when a layer's explicit lanes (a LayerParallelism item) do not divide its parallel dimension.</summary>
    public static void ValidateLanes(IntegerTransformer model, LayerPlan plan, string projectFile)
    {
        var engine = plan.Engine is not null ? Engine.MacEngine.For(model, plan) : null;
        foreach (var layer in model.Layers.Where(l => HasLanes(l) && engine?.JobOf(l) is null))
        {
            var choice = plan[layer.Name];
            int size = ParallelSize(layer);
            if (choice.LanesExplicit && size % choice.Lanes != 0)
            {
                throw new FpgaException(ErrorCodes.InvalidLanes, projectFile,
                    $"layer '{layer.Name}' has {layer.Datapath!.ParallelDimension}, which {choice.Lanes} MAC lanes do not divide; use one of {string.Join(", ", ValidLanes(layer))} (LayerParallelism Lanes)");
            }
        }
    }
}
