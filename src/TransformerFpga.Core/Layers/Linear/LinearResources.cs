using TransformerFpga.Hardware;

namespace TransformerFpga.Layers.Linear;

/// <summary>The resource model's view of linear.vhd: what its LUTs, flip-flops and DSPs grow with.</summary>
public static class LinearResources
{
    /// <summary>[1, lanes·(acc + pipeline register bits), requant product, lanes·out, ROM LUT bits/64, address bits, LUT-multiplier bits, LUT requantizer adder bits, small DSP product bits, ROM register bits].</summary>
    public static double[] Features(VhdlModule m)
    {
        long lanes = m.Get("LANES", 1), acc = m["ACC_BITS"], m0 = m["M0_BITS"], wb = m["WB"];
        int xb = m.PortWidth("src0_rd_data"), yb = m.PortWidth("wr_data");
        double lutMultiplier = m.UsesLutMultipliers ? lanes * wb * xb : 0;
        return [1, lanes * (acc + LanePipelineBits(m, xb, (int)wb)), acc + m0, lanes * yb, RomBlocks.LutRomBits(m) / 64.0, AddressBits(m), lutMultiplier, LutRequantizerBits(m),
            SmallProductBits(m, lanes, (int)wb, xb), RomRegisterBits(m)];
    }

    /// <summary>
    /// Bits of the registered weight and bias words that vary: a bit column constant over the ROM (all biases of a
    /// layer with one output group, the unused top bits of narrow weights) leaves a register with a constant input,
    /// which synthesis removes together with its copy in the operand register.
    /// </summary>
    internal static double RomRegisterBits(VhdlModule m) => m.Roms.Sum(r => r.VaryingWidth);

    /// <summary>
    /// Products mapped to DSPs that synth_xilinx leaves in LUTs because they are narrower than
    /// <see cref="DspRule.MinimumProductBits"/>: lanes × the operands' bits, as for LUT multipliers (a plain `*`, not the tree).
    /// </summary>
    internal static double SmallProductBits(VhdlModule m, long lanes, int a, int b) =>
        !m.UsesLutMultipliers && a + b < DspRule.MinimumProductBits ? lanes * a * b : 0;

    /// <summary>
    /// Flip-flops per lane of the pipelined MAC beyond its accumulator: with DSPs the lane's own operand
    /// register (Yosys keeps the operand registers in the fabric; product and P registers are inside the
    /// DSP48E1); with LUT multipliers the tree's partial sums, the product and the product-out register.
    /// <paramref name="shared"/> is the operand shared by the lanes, <paramref name="own"/> the lane's own
    /// (the one whose bits select the LUT tree's partial products).
    /// </summary>
    internal static int LanePipelineBits(VhdlModule m, int shared, int own)
    {
        int product = shared + own;
        return m.UsesLutMultipliers ? (Hdl.Multipliers.TreeParts(own) + 2) * product : own;
    }

    /// <summary>
    /// With LUT multipliers the requantizer's product by the constant M0 is one adder of the product's
    /// width per set bit of M0 (shift-add), so its LUTs grow with width × set bits, not with width alone.
    /// </summary>
    internal static double LutRequantizerBits(VhdlModule m) =>
        m.UsesLutMultipliers ? (m["ACC_BITS"] + m["M0_BITS"]) * (double)System.Numerics.BitOperations.PopCount((ulong)Math.Abs(m.Constant("M0"))) : 0;

    /// <summary>One signed product per lane plus the requantizer's unsigned magnitude × M0; none with LUT multipliers (no "*" at all).</summary>
    public static int Dsp(VhdlModule m)
    {
        long lanes = m.Get("LANES", 1);
        int wb = (int)m["WB"], xb = m.PortWidth("src0_rd_data");
        if (m.UsesLutMultipliers) return 0;
        return (int)lanes * DspRule.Signed(wb, xb) + RequantizerDsp(m);
    }

    /// <summary>The requantizer's magnitude (ACC_BITS, unsigned) × M0.</summary>
    internal static int RequantizerDsp(VhdlModule m) => DspRule.Unsigned((int)m["ACC_BITS"], m.Constant("M0"));

    internal static double AddressBits(VhdlModule m) => m.Ports.Where(p => p.Key.EndsWith("_addr", StringComparison.OrdinalIgnoreCase)).Sum(p => p.Value);
}
