using TransformerFpga.Hardware;
using TransformerFpga.Hdl;
using TransformerFpga.Pipeline;
using TransformerFpga.Quantization;

namespace TransformerFpga.Layers.Attention;

/// <summary>The datapath of a <see cref="SoftmaxLayer"/>: template softmax.vhd (exp table, restoring division), its latency, timing and resources.</summary>
public sealed class SoftmaxHardware(SoftmaxLayer layer) : LayerDatapath
{
    public override string Template => "softmax.vhd";
    public override string TemplateEntity => "tfpga_softmax";
    public override ModuleKind ModuleKind => ModuleKind.Softmax;
    /// <summary>e·R·Q as two products (see <see cref="AttentionResources.SoftmaxDsp"/>).</summary>
    public override int MultiplierCount(int lanes) => 2;

    /// <summary>Restoring-division steps per row: two quotient bits each over the RECIP_BITS + 1 bits of 2^RECIP_BITS.</summary>
    public static int DivisionSteps => (SoftmaxLayer.ReciprocalBits + 2) / 2;

    /// <summary>
    /// Cycles of a row slot (see softmax.vhd): the front's two passes and its last e_j reaching the sum, or the back's
    /// division and output reads, whichever is longer.
    /// </summary>
    public long Slot => Math.Max(2L * layer.Columns + 5, DivisionSteps + layer.Columns);

    /// <summary>
    /// ROWS + 1 slots (the front on row s while the back finishes row s - 1), the last one ending after the back's
    /// division, its output reads and the five stages to the write: ROWS·SLOT + DIV_STEPS + W + 5.
    /// </summary>
    public override long Cycles(int lanes, bool lutMultipliers) =>
        layer.Rows * Slot + DivisionSteps + layer.Columns + 5;

    /// <summary>
    /// The longest register-to-register path of softmax.vhd: the address and slot counters, read data, the
    /// running max (compare, select), max - s, the exp ROM (EXP_LEN words) gated by its range compare, the row
    /// sum, two restoring-division steps (compare-subtract, select, twice), R·Q by shift and subtract, the e buffer
    /// read (LUT RAM), the two products, their sum from the DSP48E1 outputs, the rounding adder and the clamp to Q.
    /// </summary>
    public override TimingPath CriticalPath(int lanes, bool lutMultipliers, BufferResource weights = BufferResource.Auto)
    {
        var w = Widths();
        int xb = layer.Sources[0].Output.Bits;
        var rom = TimingPath.FromRegister().Luts(1);
        if (layer.ExpTable.Length > 64) rom.MuxF7();
        if (layer.ExpTable.Length > 128) rom.MuxF7();
        for (long words = 256; words < layer.ExpTable.Length; words *= 4) rom.Luts(1);
        var compare = TimingPath.FromRegister().Adder(xb + 1);
        var exp = (compare.Nanoseconds > rom.Nanoseconds ? compare : rom).Luts(1);
        return PipelineTiming.Longest(
            PipelineTiming.Counter(Vhdl.AddressBits(layer.Elements)),
            PipelineTiming.Counter(Vhdl.AddressBits(Slot)),
            PipelineTiming.ReadData(),
            PipelineTiming.Ended(TimingPath.FromRegister().Adder(xb).Luts(1)),
            PipelineTiming.Ended(TimingPath.FromRegister().Adder(xb + 1)),
            PipelineTiming.Ended(exp),
            PipelineTiming.Ended(TimingPath.FromRegister().Adder(w.SumBits)),
            PipelineTiming.Ended(TimingPath.FromRegister().Adder(w.SumBits + 1).Luts(1).Adder(w.SumBits + 1).Luts(1)),
            PipelineTiming.Ended(TimingPath.FromRegister().LutRamRead()),
            PipelineTiming.Ended(TimingPath.FromRegister().Adder(w.RqBits)),
            PipelineTiming.Product(),
            PipelineTiming.Ended(TimingPath.FromDsp().Adder(w.ProductBits)),
            PipelineTiming.Ended(TimingPath.FromRegister().Adder(w.ProductBits - SoftmaxLayer.ReciprocalBits + 2)),
            PipelineTiming.Ended(TimingPath.FromRegister().Adder(w.ProductBits - SoftmaxLayer.ReciprocalBits + 2).Luts(1)));
    }

    /// <summary>Softmax widths: the row sum, the reciprocal R, R·Q and e·R·Q.</summary>
    private (int SumBits, int RBits, int RqBits, int ProductBits) Widths()
    {
        int sumBits = IntegerMath.BitLength((long)layer.Columns * layer.ExpTable.Max());
        int rBits = IntegerMath.BitLength((1L << SoftmaxLayer.ReciprocalBits) / layer.ExpTable[0]);
        // R·Q < 2^rBits · 2^b (Q = 2^b - 1)
        int rqBits = rBits + layer.Output.Bits;
        return (sumBits, rBits, rqBits, SoftmaxLayer.ExpFractionBits + 1 + rqBits);
    }

    public override bool WritesPaddedRows => true;

    public override void Fill(VhdlTemplate template, int lanes, bool lutMultipliers, int outputBanks = 1, BufferResource weights = BufferResource.Auto, int outputPitch = 0)
    {
        int w = layer.Columns;
        if (outputPitch != 0 && outputPitch < w) throw new ArgumentOutOfRangeException(nameof(outputPitch));
        var (sumBits, rBits, _, _) = Widths();
        template.SetRegion("constants", Vhdl.Lines(
            Vhdl.Positive("ROWS", layer.Rows),
            Vhdl.Positive("WIN", w),
            Vhdl.Positive("EXP_LEN", layer.ExpTable.Length),
            Vhdl.Natural("IDX_SHIFT", layer.IndexShift),
            Vhdl.Positive("RECIP_BITS", SoftmaxLayer.ReciprocalBits),
            Vhdl.Positive("SUM_BITS", sumBits),
            Vhdl.Positive("R_BITS", rBits),
            Vhdl.Positive("OUT_PITCH", outputPitch == 0 ? w : outputPitch)));
        template.SetRegion("rom", Vhdl.Lines(
            Vhdl.Constant("EXP_TABLE", "exp_rom_t", Vhdl.Aggregate(layer.ExpTable.Select(e => Vhdl.UnsignedBits(e, 16)), "    ", 6, 2, Vhdl.UnsignedBits(0, 16)))));
    }

    public override double[] Features(VhdlModule vhdl, double distributedSourceBits) => AttentionResources.SoftmaxFeatures(vhdl);

    public override (int Bram18, int Dsp) Counted(VhdlModule vhdl) => (RomBlocks.Bram18(vhdl), AttentionResources.SoftmaxDsp(vhdl));

    /// <summary>The e buffer: two rows of WIN 16-bit values.</summary>
    public override int CountedLutRam(VhdlModule vhdl) => BufferResources.LutRam(2 * vhdl["WIN"], 16);
}
