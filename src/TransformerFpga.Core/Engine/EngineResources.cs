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
    /// (accumulator + M0 bits) and the weight and bias ROM bits left in LUTs / 64.
    /// </summary>
    public static double[] Features(VhdlModule m, HdlGenerator.Design design)
    {
        var engine = design.Engine ?? throw new ArgumentException("the design has no engine", nameof(design));
        long lanes = m["LANES"], acc = m["ACC_BITS"], m0 = m["M0_BITS"];
        int a = m.PortWidth("a_rd_data"), b = m.PortWidth("b_rd_data");
        int steps = engine.Jobs.Count, bSteps = engine.Jobs.Count(j => j.BSource is not null);
        double lutProducts = m.UsesLutMultipliers ? lanes * (double)(a / lanes) * (b / lanes) + acc * m0 : (lanes - m["DSP_LANES"]) * (double)(a / lanes) * (b / lanes);
        return [1, steps * (double)a + bSteps * (double)b, a + b, lanes * acc, lutProducts, acc + m0, RomBlocks.LutRomBits(m) / 64.0];
    }

    /// <summary>RAMB18 of the weight and bias ROMs; DSP48E1: one product per DSP lane and the requantizer's magnitude × M0 (none with LUT multipliers).</summary>
    public static (int Bram18, int Dsp) Counted(VhdlModule m)
    {
        if (m.UsesLutMultipliers) return (RomBlocks.Bram18(m), 0);
        long lanes = m["LANES"], dspLanes = m["DSP_LANES"];
        int acc = (int)m["ACC_BITS"], m0 = (int)m["M0_BITS"];
        int ab = m.PortWidth("a_rd_data") / (int)lanes, bb = m.PortWidth("b_rd_data") / (int)lanes;
        return (RomBlocks.Bram18(m), (int)dspLanes * DspRule.Signed(ab, bb) + DspRule.Count(acc, m0, acc + m0));
    }
}
