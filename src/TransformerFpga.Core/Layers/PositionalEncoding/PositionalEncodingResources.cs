using TransformerFpga.Hardware;
using TransformerFpga.Layers.Linear;

namespace TransformerFpga.Layers.PositionalEncoding;

/// <summary>The resource model's view of posenc.vhd.</summary>
public static class PositionalEncodingResources
{
    /// <summary>[1, sum bits, multiplier bits, ROM LUT bits/64, out, address bits].</summary>
    public static double[] Features(VhdlModule m) =>
        [1, m["S_BITS"], m["M0_BITS"], RomBlocks.LutRomBits(m) / 64.0, m.PortWidth("wr_data"), LinearResources.AddressBits(m)];

    /// <summary>|x|·M0, an unsigned magnitude by a non-negative constant.</summary>
    public static int Dsp(VhdlModule m) => Residual.ResidualResources.MagnitudeByConstantDsp(m.PortWidth("src0_rd_data"), m.Constant("M0"));
}
