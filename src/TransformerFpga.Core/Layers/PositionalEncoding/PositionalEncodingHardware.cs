using TransformerFpga.Hdl;

namespace TransformerFpga.Layers.PositionalEncoding;

/// <summary>The hardware of a <see cref="PositionalEncodingLayer"/>: posenc.vhd, streaming one element per cycle.</summary>
public static class PositionalEncodingHardware
{
    public const string Template = "posenc.vhd", TemplateEntity = "tfpga_posenc";

    /// <summary>One element per cycle plus the read/multiply/round pipeline.</summary>
    public static long Cycles(PositionalEncodingLayer layer) => layer.Elements + 3L;

    public static void Fill(PositionalEncodingLayer layer, VhdlTemplate template)
    {
        int xb = layer.Sources[0].Output.Bits;
        long m0 = layer.Requant.Multiplier;
        int m0Bits = Vhdl.SignedWidth(m0);
        long maxTable = layer.Table.Max(v => Math.Abs(v));
        int tb = Vhdl.SignedWidth(maxTable);
        int sBits = Math.Max(Vhdl.SignedWidth((1L << (xb - 1)) * Math.Abs(m0) + maxTable), Math.Max(xb + m0Bits, tb)) + 1;
        template.SetRegion("constants", Vhdl.Lines(
            Vhdl.Positive("N", layer.Elements),
            Vhdl.Positive("M0_BITS", m0Bits),
            Vhdl.Constant("M0", "signed(M0_BITS - 1 downto 0)", Vhdl.Bits(m0, m0Bits)),
            Vhdl.Positive("TB", tb),
            Vhdl.Positive("S_BITS", sBits),
            Vhdl.Natural("SHIFT", layer.Requant.Shift)));
        template.SetRegion("rom", Vhdl.Lines(
            Vhdl.Constant("TABLE", "table_t", Vhdl.Aggregate(layer.Table.Select(v => Vhdl.Bits(v, tb)), "    ", 6, 2, Vhdl.Bits(0, tb)))));
    }
}
