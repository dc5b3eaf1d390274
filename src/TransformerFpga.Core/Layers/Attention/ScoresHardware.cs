using TransformerFpga.Hardware;
using TransformerFpga.Hdl;
using TransformerFpga.Pipeline;
using TransformerFpga.Layers.Linear;
using TransformerFpga.Quantization;

namespace TransformerFpga.Layers.Attention;

/// <summary>The datapath of a <see cref="ScoresLayer"/> (Q·Kᵀ per head): template scores.vhd, its latency, timing and resources.</summary>
public sealed class ScoresHardware(ScoresLayer layer) : LayerDatapath
{
    public override string Template => "scores.vhd";
    public override string TemplateEntity => "tfpga_scores";
    public override ModuleKind ModuleKind => ModuleKind.Scores;
    public override bool HasLanes => true;
    /// <summary>Lanes split the reduction over the head dimension.</summary>
    public override int ParallelSize => layer.HeadDim;
    public override string ParallelDimension => $"a head dimension of {layer.HeadDim}";
    /// <summary>Q and K, each in one column bank per lane.</summary>
    public override IReadOnlyList<QuantizedLayer> BankedSources => [.. layer.Sources.Select(s => s.BufferOwner)];

    /// <summary>
    /// <paramref name="lanes"/> MACs over the reduction (Q and K column-banked): HeadDim / lanes read cycles
    /// per output, back to back; the last output then crosses the pipeline: read data, operands, product,
    /// product out, <see cref="MacTiming.SumStages"/> stages summing the lanes, accumulator, hold, and the
    /// requantizer (magnitude, product, P, rounding, saturation) to the write: + 12 + sum stages.
    /// </summary>
    public override long Cycles(int lanes, bool lutMultipliers) =>
        (long)layer.Heads * layer.Window * layer.Window * (layer.HeadDim / lanes) + 12 + MacTiming.SumStages(lanes);

    /// <summary>Signed width of the scores accumulator: HeadDim products of Q and K at their bit widths.</summary>
    /// <summary>
    /// s[h, i, j] on the engine: a = the query row's head columns, b = the key row's (both buffers row-major), the
    /// output row-major [head][query][key].
    /// </summary>
    public static Engine.EngineJob EngineJob(ScoresLayer layer, int lanes)
    {
        int words = Engine.EngineJob.WordsOf(layer, layer.HeadDim, "a head dimension", lanes);
        int rowWords = layer.DModel / lanes, w = layer.Window;
        return new Engine.EngineJob(layer, layer.Heads, w, w, words,
            layer.Sources[0].BufferOwner, words, rowWords,
            layer.Sources[1].BufferOwner, words, rowWords, null, 0,
            w * w, w, 1,
            null, layer.Requant.Multiplier, layer.Requant.Shift, false, new ScoresHardware(layer).AccumulatorWidth());
    }

    public int AccumulatorWidth()
    {
        int qb = layer.Sources[0].Output.Bits, kb = layer.Sources[1].Output.Bits;
        return Math.Max(Vhdl.SignedWidth(layer.HeadDim * (1L << (qb - 1)) * (1L << (kb - 1))), qb + kb);
    }

    /// <summary>
    /// The deepest register-to-register path of scores.vhd: counters and addresses, the Q/K read data (one
    /// lane slice per lane), the DSP or two-stage LUT products, the registered sums of four over the lanes,
    /// the accumulator and the requantizer stages.
    /// </summary>
    public override TimingPath CriticalPath(int lanes, bool lutMultipliers, BufferResource weights = BufferResource.Auto)
    {
        int qb = layer.Sources[0].Output.Bits, kb = layer.Sources[1].Output.Bits;
        long counter = Math.Max((long)layer.Window * (layer.DModel / lanes), (long)layer.Heads * layer.Window * layer.Window);
        return MacTiming.CriticalPath(new MacTiming.Shape(qb, kb, 1, AccumulatorWidth(), Vhdl.SignedWidth(layer.Requant.Multiplier),
            layer.Output.Bits, IntegerMath.BitLength(counter), 0, 0, MacTiming.SumStages(lanes), lutMultipliers));
    }

    public override void Fill(VhdlTemplate template, int lanes, bool lutMultipliers, int outputBanks = 1, BufferResource weights = BufferResource.Auto, int outputPitch = 0) =>
        AttentionMac.Fill(template, layer.Heads, layer.Window, layer.DModel, layer.HeadDim, lanes, lutMultipliers, AccumulatorWidth(), layer.Requant);

    public override double[] Features(VhdlModule vhdl, double distributedSourceBits) => [.. AttentionResources.MacFeatures(vhdl, scores: true), distributedSourceBits];

    public override (int Bram18, int Dsp) Counted(VhdlModule vhdl) => (0, AttentionResources.MacDsp(vhdl, scores: true));
}
