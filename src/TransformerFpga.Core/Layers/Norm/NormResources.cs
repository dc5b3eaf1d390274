using TransformerFpga.Hardware;
using TransformerFpga.Layers.Linear;

namespace TransformerFpga.Layers.Norm;

/// <summary>The resource model's view of batchnorm.vhd and layernorm.vhd.</summary>
public static class NormResources
{
    /// <summary>Batch norm: [1, sum bits, gain bits, ROM LUT bits/64, out, address bits].</summary>
    public static double[] BatchFeatures(VhdlModule m) =>
        [1, m["S_BITS"], m["M0_BITS"], RomBlocks.LutRomBits(m) / 64.0, m.PortWidth("wr_data"), LinearResources.AddressBits(m)];

    /// <summary>|x|·|gain[c]|: unsigned magnitudes, the gain's from a sign-and-magnitude ROM (not a constant).</summary>
    public static int BatchDsp(VhdlModule m)
    {
        int x = m.PortWidth("src0_rd_data"), gain = (int)m["M0_BITS"] - 1;
        return DspRule.Count(x, gain, x + gain);
    }

    /// <summary>
    /// Layer norm: [1, front and middle register widths (S, Q, S², d·V and the radicand), root bits (the root's and
    /// the division's remainders), back widths (d·x with one adder per further set bit of d, the shifter, the output
    /// sum), LUT-multiplier product bits, ROM LUT bits/64].
    /// </summary>
    public static double[] LayerFeatures(VhdlModule m)
    {
        int d = (int)m["DM"], rt = (int)m["RT_BITS"], xb = m.PortWidth("src0_rd_data"), gb = (int)m["GB"];
        int terms = System.Numerics.BitOperations.PopCount((uint)d);
        double lutProducts = m.UsesLutMultipliers ? xb * xb + rt * LayerNormHardware.ReciprocalBits + LayerNormHardware.NormalizedMagnitudeBits * gb : 0;
        return
        [
            1, m["SUM_BITS"] + m["SQX_BITS"] + 2 * m["SMAG_BITS"] + m["T_BITS"] + 2 * rt, rt,
            terms * m["CEN_BITS"] + rt * Quantization.IntegerMath.BitLength(rt - 1) + m["S_BITS"], lutProducts, RomBlocks.LutRomBits(m) / 64.0,
        ];
    }

    /// <summary>The three products x², |D|·2^sh·R and |u|·|G| on magnitudes (none with LUT multipliers).</summary>
    public static int LayerDsp(VhdlModule m)
    {
        if (m.UsesLutMultipliers) return 0;
        int xb = m.PortWidth("src0_rd_data"), rt = (int)m["RT_BITS"], gb = (int)m["GB"];
        int r = LayerNormHardware.ReciprocalBits, u = LayerNormHardware.NormalizedMagnitudeBits;
        return DspRule.Count(xb, xb, 2 * xb) + DspRule.Count(rt, r, rt + r) + DspRule.Count(u, gb, u + gb);
    }

    /// <summary>The row ring: 3·d words of the input's width in LUT RAM, one write and one read port.</summary>
    public static int LayerLutRam(VhdlModule m) => BufferResources.LutRam(3L * m["DM"], m.PortWidth("src0_rd_data"));
}
