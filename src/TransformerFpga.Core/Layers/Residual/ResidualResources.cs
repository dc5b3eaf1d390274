using TransformerFpga.Hardware;
using TransformerFpga.Layers.Linear;

namespace TransformerFpga.Layers.Residual;

/// <summary>The resource model's view of residual.vhd.</summary>
public static class ResidualResources
{
    /// <summary>[1, sum bits, multiplier bits, out, address bits].</summary>
    public static double[] Features(VhdlModule m) =>
        [1, m["S_BITS"], m["M0_BITS"], m.PortWidth("wr_data"), LinearResources.AddressBits(m)];

    public static int Dsp(VhdlModule m) =>
        DspRule.ByConstant(m.PortWidth("src0_rd_data"), m.Constant("MA"), (int)m["M0_BITS"])
        + DspRule.ByConstant(m.PortWidth("src1_rd_data"), m.Constant("MB"), (int)m["M0_BITS"]);
}
