using TransformerFpga.Hdl;

namespace TransformerFpga.Layers.Pooling;

/// <summary>The hardware of an <see cref="AveragePoolLayer"/>: pool.vhd, one adder.</summary>
public static class PoolingHardware
{
    public const string Template = "pool.vhd", TemplateEntity = "tfpga_pool";

    /// <summary>Per channel: Window accumulate cycles, drain, multiply, round, write.</summary>
    public static long Cycles(AveragePoolLayer layer) => (long)layer.Columns * (layer.Window + 4);

    public static void Fill(AveragePoolLayer layer, VhdlTemplate template)
    {
        int xb = layer.Sources[0].Output.Bits;
        int acc = Math.Max(Vhdl.SignedWidth(layer.Window * (1L << (xb - 1))), xb);
        int m0Bits = Vhdl.SignedWidth(layer.Requant.Multiplier);
        template.SetRegion("constants", Vhdl.Lines(
            Vhdl.Positive("WIN", layer.Window),
            Vhdl.Positive("DM", layer.Columns),
            Vhdl.Positive("ACC_BITS", acc),
            Vhdl.Positive("M0_BITS", m0Bits),
            Vhdl.Constant("M0", "signed(M0_BITS - 1 downto 0)", Vhdl.Bits(layer.Requant.Multiplier, m0Bits)),
            Vhdl.Natural("SHIFT", layer.Requant.Shift)));
    }
}
