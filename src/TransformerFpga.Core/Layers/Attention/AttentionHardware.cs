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

    /// <summary>Edges from a softmax output element's address to its write (see softmax.vhd).</summary>
    public const int SoftmaxPipelineDepth = 9;

    /// <summary>Edges from the last exp-sum address to the division's first step: the sum completes 5 edges after it.</summary>
    public const int SoftmaxSumDrain = 5;

    /// <summary>
    /// Per row: max pass (W), exp-sum pass (W), sum drain (<see cref="SoftmaxSumDrain"/> - 1), restoring division
    /// (RecipBits + 1), output pass (W); the next row starts while the output drains, and the last row's last
    /// element is written <see cref="SoftmaxPipelineDepth"/> edges after its address.
    /// </summary>
    public static long Cycles(SoftmaxLayer layer) =>
        (long)layer.Rows * (3L * layer.Columns + SoftmaxSumDrain - 1 + SoftmaxLayer.ReciprocalBits + 1) + SoftmaxPipelineDepth - 1;

    /// <summary>
    /// The longest register-to-register path of softmax.vhd: the address and division counters, read data, the
    /// running max (compare, select), max - s, the exp ROM (EXP_LEN words) gated by its range compare, the row
    /// sum, one restoring-division step (compare-subtract, select), R·Q by shift and subtract, the two products,
    /// their sum from the DSP48E1 outputs, the rounding adder and the clamp to Q.
    /// </summary>
    public static TimingPath CriticalPath(SoftmaxLayer layer)
    {
        var w = SoftmaxWidths(layer);
        int xb = layer.Sources[0].Output.Bits;
        var rom = TimingPath.FromRegister().Luts(1);
        if (layer.ExpTable.Length > 64) rom.MuxF7();
        if (layer.ExpTable.Length > 128) rom.MuxF7();
        for (long words = 256; words < layer.ExpTable.Length; words *= 4) rom.Luts(1);
        var compare = TimingPath.FromRegister().Adder(xb + 1);
        var exp = (compare.Nanoseconds > rom.Nanoseconds ? compare : rom).Luts(1);
        return PipelineTiming.Longest(
            PipelineTiming.Counter(Vhdl.AddressBits(layer.Elements)),
            PipelineTiming.Counter(Vhdl.AddressBits(SoftmaxLayer.ReciprocalBits + 1)),
            PipelineTiming.ReadData(),
            PipelineTiming.Ended(TimingPath.FromRegister().Adder(xb).Luts(1)),
            PipelineTiming.Ended(TimingPath.FromRegister().Adder(xb + 1)),
            PipelineTiming.Ended(exp),
            PipelineTiming.Ended(TimingPath.FromRegister().Adder(w.SumBits)),
            PipelineTiming.Ended(TimingPath.FromRegister().Adder(w.SumBits + 1).Luts(1)),
            PipelineTiming.Ended(TimingPath.FromRegister().Adder(w.RqBits)),
            PipelineTiming.Product(),
            PipelineTiming.Ended(TimingPath.FromDsp().Adder(w.ProductBits)),
            PipelineTiming.Ended(TimingPath.FromRegister().Adder(w.ProductBits - SoftmaxLayer.ReciprocalBits + 2)),
            PipelineTiming.Ended(TimingPath.FromRegister().Adder(w.ProductBits - SoftmaxLayer.ReciprocalBits + 2).Luts(1)));
    }

    /// <summary>Softmax widths: the row sum, the reciprocal R, R·Q and e·R·Q.</summary>
    private static (int SumBits, int RBits, int RqBits, int ProductBits) SoftmaxWidths(SoftmaxLayer layer)
    {
        int sumBits = IntegerMath.BitLength((long)layer.Columns * layer.ExpTable.Max());
        int rBits = IntegerMath.BitLength((1L << SoftmaxLayer.ReciprocalBits) / layer.ExpTable[0]);
        int rqBits = rBits + layer.Output.Bits - 1;
        return (sumBits, rBits, rqBits, SoftmaxLayer.ExpFractionBits + 1 + rqBits);
    }

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
        var (sumBits, rBits, _, _) = SoftmaxWidths(layer);
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
