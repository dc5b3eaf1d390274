using TransformerFpga.Hdl;
using TransformerFpga.Quantization;

namespace TransformerFpga.Layers.Norm;

/// <summary>The hardware of a <see cref="LayerNormLayer"/>: layernorm.vhd (sum, squares, square root, reciprocal, output pass).</summary>
public static class LayerNormHardware
{
    public const string Template = "layernorm.vhd", TemplateEntity = "tfpga_layernorm";

    /// <summary>|u_c| ≤ 2^16 because |D_c| ≤ r; two bits of margin.</summary>
    public const int NormalizedBits = LayerNormLayer.NormalizedFractionBits + 4;

    /// <summary>Per row: sum pass (d + 1), square pass (d + 2), load (1), square root (RootBits), division (K + 1), output pass (d + 5).</summary>
    public static long Cycles(LayerNormLayer layer) =>
        (long)layer.Rows * (3L * layer.Columns + RootBits(layer) + layer.ReciprocalBits + 10);

    /// <summary>Bound of Σ D_c² with |D_c| ≤ 2·d·2^(b-1).</summary>
    private static long SquaresBound(LayerNormLayer layer)
    {
        long d = layer.Columns, cen = 2 * d * (1L << (layer.Sources[0].Output.Bits - 1));
        return d * cen * cen;
    }

    /// <summary>Bits of floor(sqrt(Σ D² + E)): half the (even-rounded) bits of the radicand.</summary>
    public static int RootBits(LayerNormLayer layer) => (IntegerMath.BitLength(SquaresBound(layer) + layer.EpsilonTerm) + 1) / 2;

    public static void Fill(LayerNormLayer layer, VhdlTemplate template)
    {
        int xb = layer.Sources[0].Output.Bits, d = layer.Columns;
        int dmBits = Vhdl.SignedWidth(d);
        int sumBits = Vhdl.SignedWidth(d * (1L << (xb - 1)));
        int cenBits = Vhdl.SignedWidth(2 * d * (1L << (xb - 1)));
        int sqBits = IntegerMath.BitLength(SquaresBound(layer));
        int rtBits = RootBits(layer);
        var gain = layer.Gain.Multipliers;
        long maxGain = gain.Max(v => Math.Abs(v)), maxOffset = layer.Offset.Max(v => Math.Abs(v));
        int gb = Vhdl.SignedWidth(maxGain), bb = Vhdl.SignedWidth(maxOffset);
        int sBits = Math.Max(Vhdl.SignedWidth((1L << (NormalizedBits - 1)) * maxGain + maxOffset), Math.Max(NormalizedBits + gb, bb)) + 1;
        template.SetRegion("constants", Vhdl.Lines(
            Vhdl.Positive("ROWS", layer.Rows),
            Vhdl.Positive("DM", d),
            Vhdl.Positive("DM_BITS", dmBits),
            Vhdl.Positive("SUM_BITS", sumBits),
            Vhdl.Positive("CEN_BITS", cenBits),
            Vhdl.Positive("SQ_BITS", sqBits),
            Vhdl.Positive("RT_BITS", rtBits),
            Vhdl.Constant("EPS", "unsigned(2 * RT_BITS - 1 downto 0)", Vhdl.UnsignedBits(layer.EpsilonTerm, 2 * rtBits)),
            Vhdl.Positive("K", layer.ReciprocalBits),
            Vhdl.Positive("NORM_BITS", NormalizedBits),
            Vhdl.Positive("GB", gb),
            Vhdl.Positive("BB", bb),
            Vhdl.Positive("S_BITS", sBits),
            Vhdl.Natural("SHIFT", layer.Gain.Shift)));
        template.SetRegion("rom", Vhdl.Lines(
            Vhdl.Constant("GAIN", "gain_rom_t", Vhdl.Aggregate(gain.Select(v => Vhdl.Bits(v, gb)), "    ", 6, 2, Vhdl.Bits(0, gb))),
            Vhdl.Constant("OFFSET", "offset_rom_t", Vhdl.Aggregate(layer.Offset.Select(v => Vhdl.Bits(v, bb)), "    ", 4, 2, Vhdl.Bits(0, bb)))));
    }
}
