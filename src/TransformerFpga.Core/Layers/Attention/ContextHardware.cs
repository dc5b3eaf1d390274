using TransformerFpga.Hardware;
using TransformerFpga.Hdl;
using TransformerFpga.Pipeline;
using TransformerFpga.Layers.Linear;
using TransformerFpga.Quantization;

namespace TransformerFpga.Layers.Attention;

/// <summary>The datapath of a <see cref="ContextLayer"/> (A·V per head): template context.vhd, its latency, timing and resources.</summary>
public sealed class ContextHardware(ContextLayer layer) : LayerDatapath
{
    public override string Template => "context.vhd";
    public override string TemplateEntity => "tfpga_context";
    public override ModuleKind ModuleKind => ModuleKind.Context;
    public override bool HasLanes => true;
    /// <summary>Lanes compute that many output columns of a head at a time.</summary>
    public override int ParallelSize => layer.HeadDim;
    public override string ParallelDimension => $"a head dimension of {layer.HeadDim}";
    /// <summary>V, in one column bank per lane.</summary>
    public override IReadOnlyList<QuantizedLayer> BankedSources => [layer.Sources[1].BufferOwner];

    /// <summary>
    /// <paramref name="lanes"/> output columns per group (V column-banked); groups start every max(Window, lanes)
    /// cycles, the last one adds its Window reads through the pipelined MAC (read data, operands, product,
    /// product out, accumulator), hold, and its lanes through the requantizer (magnitude, product, P,
    /// rounding, saturation) to the write: … + Window + lanes + 11.
    /// </summary>
    public override long Cycles(int lanes, bool lutMultipliers) =>
        ((long)layer.Window * (layer.Columns / lanes) - 1) * Math.Max(layer.Window, lanes) + layer.Window + lanes + 11;

    /// <summary>
    /// c[i, h·dh + c] on the engine: a = the probability row (row-major [head][query][key]), b = column h·dh + c of
    /// V, which the V layer writes column-major; the output row-major [query][d_model]. Both operands' rows of Window
    /// elements are padded to whole words (the softmax and the V layer leave the gaps at zero).
    /// </summary>
    public static Engine.EngineJob EngineJob(ContextLayer layer, int lanes)
    {
        int w = layer.Window, dh = layer.HeadDim;
        int words = Engine.EngineJob.PaddedWords(w, lanes);
        return new Engine.EngineJob(layer, layer.Heads, w, dh, words,
            layer.Sources[0].BufferOwner, w * words, words,
            layer.Sources[1].BufferOwner, dh * words, words, null, 0,
            dh, layer.Columns, 1,
            null, layer.Requant.Multiplier, layer.Requant.Shift, false, new ContextHardware(layer).AccumulatorWidth());
    }

    /// <summary>
    /// Signed width of the context accumulator: Window products of P and V at their extreme values (P is unsigned,
    /// up to 2^pb - 1), and at least the product's width (P zero-extended to pb + 1 bits times V).
    /// </summary>
    public int AccumulatorWidth()
    {
        var p = layer.Sources[0].Output;
        var v = layer.Sources[1].Output;
        return Math.Max(Vhdl.SignedWidth(layer.Window * p.MaxMagnitude * v.MaxMagnitude), p.SignedBits + v.Bits);
    }
    /// <summary>
    /// The deepest register-to-register path of context.vhd: counters and addresses, the probability read
    /// data fanning out to the lanes, the DSP or two-stage LUT products, the accumulator and the requantizer stages.
    /// </summary>
    public override TimingPath CriticalPath(int lanes, bool lutMultipliers, BufferResource weights = BufferResource.Auto)
    {
        // the multiplier's p operand is the probability zero-extended to a signed pb + 1 bits
        int pb = layer.Sources[0].Output.SignedBits, vb = layer.Sources[1].Output.Bits;
        long counter = Math.Max((long)layer.Heads * layer.Window * layer.Window, (long)layer.Window * layer.Columns);
        return MacTiming.CriticalPath(new MacTiming.Shape(pb, vb, lanes, AccumulatorWidth(), Vhdl.SignedWidth(layer.Requant.Multiplier),
            layer.Output.Bits, IntegerMath.BitLength(counter), 0, 0, 0, lutMultipliers));
    }

    public override void Fill(VhdlTemplate template, int lanes, bool lutMultipliers, int outputBanks = 1, BufferResource weights = BufferResource.Auto, int outputPitch = 0) =>
        AttentionMac.Fill(template, layer.Heads, layer.Window, layer.Columns, layer.HeadDim, lanes, lutMultipliers, AccumulatorWidth(), layer.Requant);

    public override double[] Features(VhdlModule vhdl, double distributedSourceBits) => [.. AttentionResources.MacFeatures(vhdl, scores: false), distributedSourceBits];

    public override (int Bram18, int Dsp) Counted(VhdlModule vhdl) => (0, AttentionResources.MacDsp(vhdl, scores: false));
}
