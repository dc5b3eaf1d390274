using TransformerFpga.Hdl;

namespace TransformerFpga.Layers.Residual;

/// <summary>The hardware of a <see cref="ResidualAddLayer"/>: residual.vhd, streaming one element per cycle.</summary>
public static class ResidualHardware
{
    public const string Template = "residual.vhd", TemplateEntity = "tfpga_residual";

    public static long Cycles(ResidualAddLayer layer) => layer.Elements + 3L;

    public static void Fill(ResidualAddLayer layer, VhdlTemplate template)
    {
        int ab = layer.Sources[0].Output.Bits, bb = layer.Sources[1].Output.Bits;
        long ma = layer.Requant.Multipliers[0], mb = layer.Requant.Multipliers[1];
        int m0Bits = Math.Max(Vhdl.SignedWidth(ma), Vhdl.SignedWidth(mb));
        long bound = (1L << (ab - 1)) * Math.Abs(ma) + (1L << (bb - 1)) * Math.Abs(mb);
        int sBits = Math.Max(Vhdl.SignedWidth(bound), Math.Max(ab, bb) + m0Bits) + 1;
        template.SetRegion("constants", Vhdl.Lines(
            Vhdl.Positive("N", layer.Elements),
            Vhdl.Positive("M0_BITS", m0Bits),
            Vhdl.Constant("MA", "signed(M0_BITS - 1 downto 0)", Vhdl.Bits(ma, m0Bits)),
            Vhdl.Constant("MB", "signed(M0_BITS - 1 downto 0)", Vhdl.Bits(mb, m0Bits)),
            Vhdl.Positive("S_BITS", sBits),
            Vhdl.Natural("SHIFT", layer.Requant.Shift)));
    }
}
