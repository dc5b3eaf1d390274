using TransformerFpga.Hardware;
using TransformerFpga.Layers.Linear;

namespace TransformerFpga.Layers.Pooling;

/// <summary>The resource model's view of pool.vhd.</summary>
public static class PoolingResources
{
    /// <summary>[1, acc, requant product, out, address bits].</summary>
    public static double[] Features(VhdlModule m) =>
        [1, m["ACC_BITS"], m["ACC_BITS"] + m["M0_BITS"], m.PortWidth("wr_data"), LinearResources.AddressBits(m)];

    /// <summary>|sum|·M0, an unsigned magnitude by a non-negative constant.</summary>
    public static int Dsp(VhdlModule m) => Residual.ResidualResources.MagnitudeByConstantDsp((int)m["ACC_BITS"], m.Constant("M0"));
}
