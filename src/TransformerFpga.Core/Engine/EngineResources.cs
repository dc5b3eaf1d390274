using TransformerFpga.Hardware;
using TransformerFpga.Hdl;

namespace TransformerFpga.Engine;

/// <summary>The resource model's features and counting rules of the shared MAC engine (engine.vhd) and of its read multiplexers in the top.</summary>
public static class EngineResources
{
    /// <summary>
    /// Features, first the constant 1: the read-data multiplexers of the top that choose each step's a (and b) words
    /// (steps × word bits), the operand registers (a and b words, the weight ROM's output), the lanes' adder tree
    /// (lanes × accumulator bits), the LUT multipliers' partial-product bits (0 with DSP48E1), the requantizer's width
    /// (accumulator + M0 bits), the weight, bias and write-back table bits left in LUTs / 64, and the write-back's
    /// register and adder bits (per stage its sum, offset and value widths; the residual's magnitude in stage 1).
    /// </summary>
    public static double[] Features(VhdlModule m, HdlGenerator.Design design)
    {
        var engine = design.Engine ?? throw new ArgumentException("the design has no engine", nameof(design));
        long lanes = m["LANES"], acc = m["ACC_BITS"], m0 = m["M0_BITS"];
        int a = m.PortWidth("a_rd_data"), b = m.PortWidth("b_rd_data");
        int steps = engine.Jobs.Count, bSteps = engine.Jobs.Count(j => j.BSource is not null);
        double lutProducts = m.UsesLutMultipliers ? lanes * (double)(a / lanes) * (b / lanes) + acc * m0 : (lanes - m["DSP_LANES"]) * (double)(a / lanes) * (b / lanes);
        return [1, steps * (double)a + bSteps * (double)b, a + b, lanes * acc, lutProducts, acc + m0, RomBlocks.LutRomBits(m) / 64.0, WriteBackBits(m)];
    }

    /// <summary>Register and adder bits of the write-back stages (engine.vhd): per stage the sum (five adders and registers wide), the offset's delay line, the value's magnitude, clamp and sign, and stage 1's residual magnitude.</summary>
    private static double WriteBackBits(VhdlModule m)
    {
        long stages = m["E_STAGES"], sum = m["E_SUM_BITS"], offset = m["E_OFF_BITS"], gain = m["E_GAIN_BITS"];
        int y = m.PortWidth("wr_data"), s = m.PortWidth("s_rd_data");
        return stages * (5.0 * sum + 4 * offset + 3 * y + gain) + (m["E_RESIDUAL"] == 1 ? s : 0);
    }

    /// <summary>DSP48E1 of the write-back: per stage |x|·|gain|, and in stage 1 |s|·MS when a residual is read (products of magnitudes: unsigned).</summary>
    private static int WriteBackDsp(VhdlModule m)
    {
        long stages = m["E_STAGES"];
        int gain = (int)m["E_GAIN_BITS"], ms = (int)m["E_MS_BITS"], y = m.PortWidth("wr_data"), s = m.PortWidth("s_rd_data");
        return (int)stages * DspRule.Count(y, gain, y + gain) + (stages > 0 && m["E_RESIDUAL"] == 1 ? DspRule.Count(s, ms, s + ms) : 0);
    }

    /// <summary>RAMB18 of the weight, bias and write-back ROMs; DSP48E1: one product per DSP lane, the requantizer's magnitude × M0 and the write-back's products (none with LUT multipliers).</summary>
    public static (int Bram18, int Dsp) Counted(VhdlModule m)
    {
        if (m.UsesLutMultipliers) return (RomBlocks.Bram18(m), 0);
        long lanes = m["LANES"], dspLanes = m["DSP_LANES"];
        int acc = (int)m["ACC_BITS"], m0 = (int)m["M0_BITS"];
        int ab = m.PortWidth("a_rd_data") / (int)lanes, bb = m.PortWidth("b_rd_data") / (int)lanes;
        return (RomBlocks.Bram18(m), (int)dspLanes * DspRule.Signed(ab, bb) + DspRule.Count(acc, m0, acc + m0) + WriteBackDsp(m));
    }
}
