using TransformerFpga.Hardware;
using TransformerFpga.Hdl;
using TransformerFpga.Layers.Linear;
using TransformerFpga.Quantization;

namespace TransformerFpga.Layers.Attention;

/// <summary>The hardware of <see cref="ScoresLayer"/> (scores.vhd), <see cref="SoftmaxLayer"/> (softmax.vhd) and <see cref="ContextLayer"/> (context.vhd).</summary>
public static class AttentionHardware
{
    public const string ScoresTemplate = "scores.vhd", ScoresEntity = "tfpga_scores";
    public const string SoftmaxTemplate = "softmax.vhd", SoftmaxEntity = "tfpga_softmax";
    public const string ContextTemplate = "context.vhd", ContextEntity = "tfpga_context";

    /// <summary>
    /// <paramref name="lanes"/> MACs over the reduction (Q and K column-banked): HeadDim / lanes read cycles
    /// per output, back to back; the last output then crosses the pipeline: read data, operands, product,
    /// product out, <see cref="ScoresSumStages"/> stages summing the lanes, accumulator, hold, and the
    /// requantizer (magnitude, product, P, rounding, saturation) to the write: + 12 + sum stages.
    /// </summary>
    public static long Cycles(ScoresLayer layer, int lanes) =>
        (long)layer.Heads * layer.Window * layer.Window * (layer.HeadDim / lanes) + 12 + ScoresSumStages(lanes);

    /// <summary>Registered stages of the scores template's sum over its lanes, each adding up to four values (TREE_STAGES).</summary>
    public static int ScoresSumStages(int lanes)
    {
        int stages = 0;
        for (int count = lanes; count > 1; count = (count + 3) / 4) stages++;
        return stages;
    }

    /// <summary>Per row: max pass (W + 1), exp-sum pass (W + 2), restoring division (RecipBits + 1), output pass (W + 4).</summary>
    public static long Cycles(SoftmaxLayer layer) => (long)layer.Rows * (3L * layer.Columns + SoftmaxLayer.ReciprocalBits + 8);

    /// <summary>
    /// <paramref name="lanes"/> output columns per group (V column-banked); groups start every max(Window, lanes)
    /// cycles, the last one adds its Window reads through the pipelined MAC (read data, operands, product,
    /// product out, accumulator), hold, and its lanes through the requantizer (magnitude, product, P,
    /// rounding, saturation) to the write: … + Window + lanes + 11.
    /// </summary>
    public static long Cycles(ContextLayer layer, int lanes) =>
        ((long)layer.Window * (layer.Columns / lanes) - 1) * Math.Max(layer.Window, lanes) + layer.Window + lanes + 11;

    /// <summary>Signed width of the scores accumulator: HeadDim products of Q and K at their bit widths.</summary>
    public static int AccumulatorWidth(ScoresLayer layer)
    {
        int qb = layer.Sources[0].Output.Bits, kb = layer.Sources[1].Output.Bits;
        return Math.Max(Vhdl.SignedWidth(layer.HeadDim * (1L << (qb - 1)) * (1L << (kb - 1))), qb + kb);
    }

    /// <summary>Signed width of the context accumulator: Window products of P and V at their bit widths.</summary>
    public static int AccumulatorWidth(ContextLayer layer)
    {
        int pb = layer.Sources[0].Output.Bits, vb = layer.Sources[1].Output.Bits;
        return Math.Max(Vhdl.SignedWidth(layer.Window * (1L << (pb - 1)) * (1L << (vb - 1))), pb + vb);
    }

    /// <summary>
    /// The deepest register-to-register path of scores.vhd: counters and addresses, the Q/K read data (one
    /// lane slice per lane), the DSP or two-stage LUT products, the registered sums of four over the lanes,
    /// the accumulator and the requantizer stages.
    /// </summary>
    public static TimingPath CriticalPath(ScoresLayer layer, int lanes, bool lutMultipliers)
    {
        int qb = layer.Sources[0].Output.Bits, kb = layer.Sources[1].Output.Bits;
        long counter = Math.Max((long)layer.Window * (layer.DModel / lanes), (long)layer.Heads * layer.Window * layer.Window);
        return MacTiming.CriticalPath(new MacTiming.Shape(qb, kb, 1, AccumulatorWidth(layer), Vhdl.SignedWidth(layer.Requant.Multiplier),
            layer.Output.Bits, IntegerMath.BitLength(counter), 0, 0, ScoresSumStages(lanes), lutMultipliers));
    }

    /// <summary>
    /// The deepest register-to-register path of context.vhd: counters and addresses, the probability read
    /// data fanning out to the lanes, the DSP or two-stage LUT products, the accumulator and the requantizer stages.
    /// </summary>
    public static TimingPath CriticalPath(ContextLayer layer, int lanes, bool lutMultipliers)
    {
        int pb = layer.Sources[0].Output.Bits, vb = layer.Sources[1].Output.Bits;
        long counter = Math.Max((long)layer.Heads * layer.Window * layer.Window, (long)layer.Window * layer.Columns);
        return MacTiming.CriticalPath(new MacTiming.Shape(pb, vb, lanes, AccumulatorWidth(layer), Vhdl.SignedWidth(layer.Requant.Multiplier),
            layer.Output.Bits, IntegerMath.BitLength(counter), 0, 0, 0, lutMultipliers));
    }

    public static void Fill(ScoresLayer layer, int lanes, bool lutMultipliers, VhdlTemplate template)
    {
        if (lanes < 1 || layer.HeadDim % lanes != 0) throw new ArgumentOutOfRangeException(nameof(lanes));
        Multipliers.Fill(template, lutMultipliers);
        int acc = AccumulatorWidth(layer);
        int m0Bits = Vhdl.SignedWidth(layer.Requant.Multiplier);
        template.SetRegion("constants", Vhdl.Lines(
            Vhdl.Positive("HEADS", layer.Heads),
            Vhdl.Positive("WIN", layer.Window),
            Vhdl.Positive("DM", layer.DModel),
            Vhdl.Positive("DH", layer.HeadDim),
            Vhdl.Positive("LANES", lanes),
            Vhdl.Positive("ACC_BITS", acc),
            Vhdl.Positive("M0_BITS", m0Bits),
            Vhdl.Constant("M0", "signed(M0_BITS - 1 downto 0)", Vhdl.Bits(layer.Requant.Multiplier, m0Bits)),
            Vhdl.Natural("SHIFT", layer.Requant.Shift)));
    }

    public static void Fill(ContextLayer layer, int lanes, bool lutMultipliers, VhdlTemplate template)
    {
        if (lanes < 1 || layer.HeadDim % lanes != 0) throw new ArgumentOutOfRangeException(nameof(lanes));
        Multipliers.Fill(template, lutMultipliers);
        int acc = AccumulatorWidth(layer);
        int m0Bits = Vhdl.SignedWidth(layer.Requant.Multiplier);
        template.SetRegion("constants", Vhdl.Lines(
            Vhdl.Positive("HEADS", layer.Heads),
            Vhdl.Positive("WIN", layer.Window),
            Vhdl.Positive("DM", layer.Columns),
            Vhdl.Positive("DH", layer.HeadDim),
            Vhdl.Positive("LANES", lanes),
            Vhdl.Positive("ACC_BITS", acc),
            Vhdl.Positive("M0_BITS", m0Bits),
            Vhdl.Constant("M0", "signed(M0_BITS - 1 downto 0)", Vhdl.Bits(layer.Requant.Multiplier, m0Bits)),
            Vhdl.Natural("SHIFT", layer.Requant.Shift)));
    }

    public static void Fill(SoftmaxLayer layer, VhdlTemplate template)
    {
        int w = layer.Columns;
        int sumBits = IntegerMath.BitLength((long)w * layer.ExpTable.Max());
        int rBits = IntegerMath.BitLength((1L << SoftmaxLayer.ReciprocalBits) / layer.ExpTable[0]);
        template.SetRegion("constants", Vhdl.Lines(
            Vhdl.Positive("ROWS", layer.Rows),
            Vhdl.Positive("WIN", w),
            Vhdl.Positive("EXP_LEN", layer.ExpTable.Length),
            Vhdl.Natural("IDX_SHIFT", layer.IndexShift),
            Vhdl.Positive("RECIP_BITS", SoftmaxLayer.ReciprocalBits),
            Vhdl.Positive("SUM_BITS", sumBits),
            Vhdl.Positive("R_BITS", rBits)));
        template.SetRegion("rom", Vhdl.Lines(
            Vhdl.Constant("EXP_TABLE", "exp_rom_t", Vhdl.Aggregate(layer.ExpTable.Select(e => Vhdl.UnsignedBits(e, 16)), "    ", 6, 2, Vhdl.UnsignedBits(0, 16)))));
    }
}
