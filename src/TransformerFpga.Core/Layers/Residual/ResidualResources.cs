using TransformerFpga.Hardware;
using TransformerFpga.Layers.Linear;

namespace TransformerFpga.Layers.Residual;

/// <summary>The resource model's view of residual.vhd.</summary>
public static class ResidualResources
{
    /// <summary>[1, sum bits, multiplier bits, out, address bits].</summary>
    public static double[] Features(VhdlModule m) =>
        [1, m["S_BITS"], m["M0_BITS"], m.PortWidth("wr_data"), LinearResources.AddressBits(m)];

    /// <summary>|a|·MA and |b|·MB: unsigned magnitudes by non-negative constants.</summary>
    public static int Dsp(VhdlModule m) =>
        MagnitudeByConstantDsp(m.PortWidth("src0_rd_data"), m.Constant("MA")) + MagnitudeByConstantDsp(m.PortWidth("src1_rd_data"), m.Constant("MB"));

    /// <summary>
    /// DSP48E1 of an unsigned <paramref name="magnitudeBits"/>-bit magnitude times a non-negative constant (the
    /// pipelined templates' products): the constant keeps its significant bits, a power of two is a shift.
    /// </summary>
    public static int MagnitudeByConstantDsp(int magnitudeBits, long constant)
    {
        if (constant <= 0 || (constant & (constant - 1)) == 0) return 0;
        int constantBits = Quantization.IntegerMath.BitLength(constant);
        return DspRule.Count(magnitudeBits, constantBits, magnitudeBits + constantBits);
    }
}
