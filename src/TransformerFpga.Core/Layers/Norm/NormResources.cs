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

    /// <summary>Layer norm: [1, sum+centred bits, square bits, root bits, reciprocal bits, normalized+gain bits, sum bits, ROM bits/64, address bits].</summary>
    public static double[] LayerFeatures(VhdlModule m) =>
        [1, m["SUM_BITS"] + m["CEN_BITS"], m["SQ_BITS"], m["RT_BITS"], m["K"], m["NORM_BITS"] + m["GB"], m["S_BITS"], RomBlocks.LutRomBits(m) / 64.0, LinearResources.AddressBits(m)];

    public static int LayerDsp(VhdlModule m)
    {
        int cen = (int)m["CEN_BITS"], k = (int)m["K"], norm = (int)m["NORM_BITS"], gain = (int)m["GB"];
        int xb = m.PortWidth("src0_rd_data"), dm = (int)m["DM"];
        // + 1: synthesis spends one more DSP in the square-root/reciprocal datapath (measured on every layer-norm design).
        return DspRule.ByConstant(xb, dm, (int)m["DM_BITS"]) + DspRule.Signed(cen, cen) + DspRule.Signed(cen, k + 2) + DspRule.Signed(norm, gain) + 1;
    }
}
