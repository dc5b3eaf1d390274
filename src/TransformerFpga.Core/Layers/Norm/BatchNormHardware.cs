using TransformerFpga.Hdl;

namespace TransformerFpga.Layers.Norm;

/// <summary>The hardware of a <see cref="BatchNormLayer"/>: batchnorm.vhd, a per-channel affine streaming one element per cycle.</summary>
public static class BatchNormHardware
{
    public const string Template = "batchnorm.vhd", TemplateEntity = "tfpga_batchnorm";

    public static long Cycles(BatchNormLayer layer) => layer.Elements + 3L;

    public static void Fill(BatchNormLayer layer, VhdlTemplate template)
    {
        int xb = layer.Sources[0].Output.Bits;
        var m0 = layer.Scale.Multipliers;
        long maxM0 = m0.Max(v => Math.Abs(v)), maxOffset = layer.Offset.Max(v => Math.Abs(v));
        int m0Bits = Vhdl.SignedWidth(maxM0), ob = Vhdl.SignedWidth(maxOffset);
        int sBits = Math.Max(Vhdl.SignedWidth((1L << (xb - 1)) * maxM0 + maxOffset), Math.Max(xb + m0Bits, ob)) + 1;
        template.SetRegion("constants", Vhdl.Lines(
            Vhdl.Positive("ROWS", layer.Rows),
            Vhdl.Positive("DM", layer.Columns),
            Vhdl.Positive("M0_BITS", m0Bits),
            Vhdl.Positive("OB", ob),
            Vhdl.Positive("S_BITS", sBits),
            Vhdl.Natural("SHIFT", layer.Scale.Shift)));
        template.SetRegion("rom", Vhdl.Lines(
            Vhdl.Constant("GAIN", "m0_rom_t", Vhdl.Aggregate(m0.Select(v => Vhdl.Bits(v, m0Bits)), "    ", 6, 2, Vhdl.Bits(0, m0Bits))),
            Vhdl.Constant("OFFSET", "off_rom_t", Vhdl.Aggregate(layer.Offset.Select(v => Vhdl.Bits(v, ob)), "    ", 6, 2, Vhdl.Bits(0, ob)))));
    }
}
