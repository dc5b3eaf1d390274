using TransformerFpga.Hardware;

namespace TransformerFpga.Layers.Linear;

/// <summary>The resource model's view of linear.vhd: what its LUTs, flip-flops and DSPs grow with.</summary>
public static class LinearResources
{
    /// <summary>[1, lanes·acc, requant product, lanes·out, ROM LUT bits/64, address bits, LUT-multiplier bits, LUT requantizer adder bits].</summary>
    public static double[] Features(VhdlModule m)
    {
        long lanes = m.Get("LANES", 1), acc = m["ACC_BITS"], m0 = m["M0_BITS"], wb = m["WB"];
        int xb = m.PortWidth("src0_rd_data"), yb = m.PortWidth("wr_data");
        double lutMultiplier = m.UsesLutMultipliers ? lanes * wb * xb : 0;
        return [1, lanes * acc, acc + m0, lanes * yb, RomBlocks.LutRomBits(m) / 64.0, AddressBits(m), lutMultiplier, LutRequantizerBits(m)];
    }

    /// <summary>
    /// With LUT multipliers the requantizer's product by the constant M0 is one adder of the product's
    /// width per set bit of M0 (shift-add), so its LUTs grow with width × set bits, not with width alone.
    /// </summary>
    internal static double LutRequantizerBits(VhdlModule m) =>
        m.UsesLutMultipliers ? (m["ACC_BITS"] + m["M0_BITS"]) * (double)System.Numerics.BitOperations.PopCount((ulong)Math.Abs(m.Constant("M0"))) : 0;

    public static int Dsp(VhdlModule m)
    {
        long lanes = m.Get("LANES", 1);
        int wb = (int)m["WB"], xb = m.PortWidth("src0_rd_data");
        // With LUT multipliers synthesis keeps the requantizer's constant product out of DSPs too (measured).
        if (m.UsesLutMultipliers) return 0;
        return (int)lanes * DspRule.Signed(wb, xb) + DspRule.ByConstant((int)m["ACC_BITS"], m.Constant("M0"), (int)m["M0_BITS"]);
    }

    internal static double AddressBits(VhdlModule m) => m.Ports.Where(p => p.Key.EndsWith("_addr", StringComparison.OrdinalIgnoreCase)).Sum(p => p.Value);
}
