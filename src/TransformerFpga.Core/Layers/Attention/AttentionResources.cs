using TransformerFpga.Hardware;
using TransformerFpga.Layers.Linear;

namespace TransformerFpga.Layers.Attention;

/// <summary>The resource model's view of scores.vhd, context.vhd and softmax.vhd.</summary>
public static class AttentionResources
{
    /// <summary>Scores and context: [1, lanes·(acc + pipeline register bits), requant product, out, address bits, lanes·operand bits, LUT requantizer adder bits, small products in LUTs].</summary>
    public static double[] MacFeatures(VhdlModule m, bool scores)
    {
        long lanes = m.Get("LANES", 1), acc = m["ACC_BITS"], m0 = m["M0_BITS"];
        int a = m.PortWidth("src0_rd_data"), b = m.PortWidth("src1_rd_data"), yb = m.PortWidth("wr_data");
        var (laneA, laneB) = LaneOperandBits(m, scores);
        return [1, lanes * (acc + LinearResources.LanePipelineBits(m, laneA, laneB)), acc + m0, yb, LinearResources.AddressBits(m),
            lanes * (a + b) * (m.UsesLutMultipliers ? 1 : 0), LinearResources.LutRequantizerBits(m), LinearResources.SmallProductBits(m, lanes, laneA, laneB)];
    }

    /// <summary>
    /// One signed product per lane plus the requantizer's unsigned magnitude × M0; none with LUT multipliers.
    /// The lanes' operands: scores reads LANES columns from both Q and K, context one probability shared by
    /// the lanes and LANES columns of V.
    /// </summary>
    public static int MacDsp(VhdlModule m, bool scores)
    {
        long lanes = m.Get("LANES", 1);
        if (m.UsesLutMultipliers) return 0;
        var (a, b) = LaneOperandBits(m, scores);
        return (int)lanes * DspRule.Signed(a, b) + LinearResources.RequantizerDsp(m);
    }

    /// <summary>
    /// Widths of one lane's two operands: scores reads LANES columns of both Q and K, context one probability shared by
    /// the lanes and LANES columns of V. The probability is unsigned: the multiplier takes it zero-extended, one bit wider.
    /// </summary>
    private static (int A, int B) LaneOperandBits(VhdlModule m, bool scores)
    {
        int lanes = (int)m.Get("LANES", 1);
        int a = m.PortWidth("src0_rd_data"), b = m.PortWidth("src1_rd_data") / lanes;
        return (scores ? a / lanes : a + 1, b);
    }

    /// <summary>Softmax: [1, exp ROM bits/64, sum bits, reciprocal bits, R·Q bits, out, address bits] (its e buffer is counted, <see cref="SoftmaxHardware.CountedLutRam"/>).</summary>
    public static double[] SoftmaxFeatures(VhdlModule m) =>
        [1, RomBlocks.LutRomBits(m) / 64.0, m["SUM_BITS"], m["RECIP_BITS"], SoftmaxRqBits(m), m.PortWidth("wr_data"), LinearResources.AddressBits(m)];

    /// <summary>e·R·Q as two unsigned products e × RQ[23:0] and e × RQ[rest] (R·Q itself is a shift and subtract).</summary>
    public static int SoftmaxDsp(VhdlModule m)
    {
        int rq = SoftmaxRqBits(m), low = Math.Min(24, rq), high = Math.Max(1, rq - 24);
        return DspRule.Count(16, low, 16 + low) + DspRule.Count(16, high, 16 + high);
    }

    /// <summary>R·Q with Q = 2^YB - 1 (the unsigned probability's largest value): R_BITS + YB bits.</summary>
    private static int SoftmaxRqBits(VhdlModule m) => (int)m["R_BITS"] + m.PortWidth("wr_data");
}
