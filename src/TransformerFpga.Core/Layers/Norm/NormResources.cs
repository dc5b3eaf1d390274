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

    /// <summary>Layer norm: [1, sum+centred bits, square bits, root bits, reciprocal bits, multiplier operand bits (A + digit), sum bits, ROM bits/64, address bits].</summary>
    public static double[] LayerFeatures(VhdlModule m) =>
        [1, m["SUM_BITS"] + m["CEN_BITS"], m["SQ_BITS"], m["RT_BITS"], m["K"], m["A_BITS"] + m["DIGIT_BITS"], m["S_BITS"], RomBlocks.LutRomBits(m) / 64.0, LinearResources.AddressBits(m)];

    /// <summary>The one shared multiplier: unsigned A_BITS × DIGIT_BITS (none with LUT multipliers).</summary>
    public static int LayerDsp(VhdlModule m)
    {
        if (m.UsesLutMultipliers) return 0;
        int a = (int)m["A_BITS"], digit = (int)m["DIGIT_BITS"];
        return DspRule.Count(a, digit, a + digit);
    }
}
