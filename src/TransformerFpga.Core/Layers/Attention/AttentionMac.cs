using TransformerFpga.Hdl;
using TransformerFpga.Quantization;

namespace TransformerFpga.Layers.Attention;

/// <summary>What scores.vhd and context.vhd share: their constants (the head geometry, lanes, accumulator and requantizer).</summary>
internal static class AttentionMac
{
    public static void Fill(VhdlTemplate template, int heads, int window, int dModel, int headDim, int lanes, bool lutMultipliers, int accumulatorBits, Dyadic requant)
    {
        if (lanes < 1 || headDim % lanes != 0) throw new ArgumentOutOfRangeException(nameof(lanes));
        Multipliers.Fill(template, lutMultipliers);
        int m0Bits = Vhdl.SignedWidth(requant.Multiplier);
        template.SetRegion("constants", Vhdl.Lines(
            Vhdl.Positive("HEADS", heads),
            Vhdl.Positive("WIN", window),
            Vhdl.Positive("DM", dModel),
            Vhdl.Positive("DH", headDim),
            Vhdl.Positive("LANES", lanes),
            Vhdl.Positive("ACC_BITS", accumulatorBits),
            Vhdl.Positive("M0_BITS", m0Bits),
            Vhdl.Constant("M0", "signed(M0_BITS - 1 downto 0)", Vhdl.Bits(requant.Multiplier, m0Bits)),
            Vhdl.Natural("SHIFT", requant.Shift)));
    }
}
