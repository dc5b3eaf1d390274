using TransformerFpga.Hardware;
using TransformerFpga.Hdl;

namespace TransformerFpga.Layers.Residual;

/// <summary>
/// The hardware of a <see cref="ResidualAddLayer"/>: residual.vhd, streaming one element per cycle through
/// read, read-data register, magnitudes, the two products, signed sum, and the three requantizer stages.
/// </summary>
public static class ResidualHardware
{
    public const string Template = "residual.vhd", TemplateEntity = "tfpga_residual";

    /// <summary>Pipeline stages from a read address to the registered output (see residual.vhd).</summary>
    public const int PipelineDepth = 8;

    /// <summary>One element per cycle; the last one is written <see cref="PipelineDepth"/> + 1 edges after its address.</summary>
    public static long Cycles(ResidualAddLayer layer) => layer.Elements + PipelineDepth;

    /// <summary>
    /// The longest register-to-register path of residual.vhd: read data, magnitudes, products, the signed
    /// sum of the two products (sign restored, then added, S_BITS wide) and the requantizer stages.
    /// </summary>
    public static TimingPath CriticalPath(ResidualAddLayer layer)
    {
        var (_, sBits) = Widths(layer);
        int ab = layer.Sources[0].Output.Bits, bb = layer.Sources[1].Output.Bits;
        return PipelineTiming.Longest(
            PipelineTiming.Counter(Vhdl.AddressBits(layer.Elements)),
            PipelineTiming.ReadData(),
            PipelineTiming.Ended(TimingPath.FromRegister().Adder(Math.Max(ab, bb)).Luts(1)),
            PipelineTiming.Product(),
            PipelineTiming.Ended(TimingPath.FromRegister().Adder(sBits).Adder(sBits)),
            PipelineTiming.Requantizer(sBits, layer.Output.Bits));
    }

    private static (int M0Bits, int SumBits) Widths(ResidualAddLayer layer)
    {
        int ab = layer.Sources[0].Output.Bits, bb = layer.Sources[1].Output.Bits;
        long ma = layer.Requant.Multipliers[0], mb = layer.Requant.Multipliers[1];
        int m0Bits = Math.Max(Vhdl.SignedWidth(ma), Vhdl.SignedWidth(mb));
        long bound = (1L << (ab - 1)) * Math.Abs(ma) + (1L << (bb - 1)) * Math.Abs(mb);
        return (m0Bits, Math.Max(Vhdl.SignedWidth(bound), Math.Max(ab, bb) + m0Bits) + 1);
    }

    public static void Fill(ResidualAddLayer layer, VhdlTemplate template)
    {
        long ma = layer.Requant.Multipliers[0], mb = layer.Requant.Multipliers[1];
        // The template multiplies magnitudes by the constants: rescaling by a ratio of scales never flips a sign.
        if (ma < 0 || mb < 0) throw new InvalidOperationException($"{layer.Name}: negative residual multiplier");
        var (m0Bits, sBits) = Widths(layer);
        template.SetRegion("constants", Vhdl.Lines(
            Vhdl.Positive("N", layer.Elements),
            Vhdl.Positive("M0_BITS", m0Bits),
            Vhdl.Constant("MA", "unsigned(M0_BITS - 1 downto 0)", Vhdl.Bits(ma, m0Bits)),
            Vhdl.Constant("MB", "unsigned(M0_BITS - 1 downto 0)", Vhdl.Bits(mb, m0Bits)),
            Vhdl.Positive("S_BITS", sBits),
            Vhdl.Natural("SHIFT", layer.Requant.Shift)));
    }
}
