using TransformerFpga.Hardware;
using TransformerFpga.Hdl;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Layers.Residual;

/// <summary>
/// The datapath of a <see cref="ResidualAddLayer"/>: residual.vhd, streaming one element per cycle through
/// read, read-data register, magnitudes, the two products, signed sum, and the three requantizer stages.
/// </summary>
public sealed class ResidualHardware(ResidualAddLayer layer) : LayerDatapath
{
    public override string Template => "residual.vhd";
    public override string TemplateEntity => "tfpga_residual";
    public override ModuleKind ModuleKind => ModuleKind.ResidualAdd;
    public override int MultiplierCount(int lanes) => 2;

    /// <summary>Pipeline stages from a read address to the registered output (see residual.vhd).</summary>
    public const int PipelineDepth = 8;

    /// <summary>One element per cycle; the last one is written <see cref="PipelineDepth"/> + 1 edges after its address.</summary>
    public override long Cycles(int lanes, bool lutMultipliers) => layer.Elements + PipelineDepth;

    /// <summary>
    /// The longest register-to-register path of residual.vhd: read data, magnitudes, products, the signed
    /// sum of the two products (sign restored, then added, S_BITS wide) and the requantizer stages.
    /// </summary>
    public override TimingPath CriticalPath(int lanes, bool lutMultipliers, BufferResource weights = BufferResource.Auto)
    {
        var (_, sBits) = Widths();
        int ab = layer.Sources[0].Output.Bits, bb = layer.Sources[1].Output.Bits;
        return PipelineTiming.Longest(
            PipelineTiming.Counter(Vhdl.AddressBits(layer.Elements)),
            PipelineTiming.ReadData(),
            PipelineTiming.Ended(TimingPath.FromRegister().Adder(Math.Max(ab, bb)).Luts(1)),
            PipelineTiming.Product(),
            PipelineTiming.Ended(TimingPath.FromRegister().Adder(sBits).Adder(sBits)),
            PipelineTiming.Requantizer(sBits, layer.Output.Bits));
    }

    private (int M0Bits, int SumBits) Widths()
    {
        int ab = layer.Sources[0].Output.Bits, bb = layer.Sources[1].Output.Bits;
        long ma = layer.Requant.Multipliers[0], mb = layer.Requant.Multipliers[1];
        int m0Bits = Math.Max(Vhdl.SignedWidth(ma), Vhdl.SignedWidth(mb));
        long bound = (1L << (ab - 1)) * Math.Abs(ma) + (1L << (bb - 1)) * Math.Abs(mb);
        return (m0Bits, Math.Max(Vhdl.SignedWidth(bound), Math.Max(ab, bb) + m0Bits) + 1);
    }

    public override void Fill(VhdlTemplate template, int lanes, bool lutMultipliers, int outputBanks = 1, BufferResource weights = BufferResource.Auto, int outputPitch = 0)
    {
        long ma = layer.Requant.Multipliers[0], mb = layer.Requant.Multipliers[1];
        // The template multiplies magnitudes by the constants: rescaling by a ratio of scales never flips a sign.
        if (ma < 0 || mb < 0) throw new InvalidOperationException($"{layer.Name}: negative residual multiplier");
        var (m0Bits, sBits) = Widths();
        template.SetRegion("constants", Vhdl.Lines(
            Vhdl.Positive("N", layer.Elements),
            Vhdl.Positive("M0_BITS", m0Bits),
            Vhdl.Constant("MA", "unsigned(M0_BITS - 1 downto 0)", Vhdl.Bits(ma, m0Bits)),
            Vhdl.Constant("MB", "unsigned(M0_BITS - 1 downto 0)", Vhdl.Bits(mb, m0Bits)),
            Vhdl.Positive("S_BITS", sBits),
            Vhdl.Natural("SHIFT", layer.Requant.Shift)));
    }

    public override double[] Features(VhdlModule vhdl, double distributedSourceBits) => ResidualResources.Features(vhdl);

    public override (int Bram18, int Dsp) Counted(VhdlModule vhdl) => (0, ResidualResources.Dsp(vhdl));
}
