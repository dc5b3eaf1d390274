using TransformerFpga.Hardware;
using TransformerFpga.Hdl;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Layers.PositionalEncoding;

/// <summary>
/// The datapath of a <see cref="PositionalEncodingLayer"/>: posenc.vhd, streaming one element per cycle through
/// read, read-data register, magnitude, product and ROM word, signed sum, and the three requantizer stages.
/// </summary>
public sealed class PositionalEncodingHardware(PositionalEncodingLayer layer) : LayerDatapath
{
    public override string Template => "posenc.vhd";
    public override string TemplateEntity => "tfpga_posenc";
    public override ModuleKind ModuleKind => ModuleKind.PositionalEncoding;
    public override int MultiplierCount(int lanes) => 1;

    /// <summary>Pipeline stages from a read address to the registered output (see posenc.vhd).</summary>
    public const int PipelineDepth = 8;

    /// <summary>One element per cycle; the last one is written <see cref="PipelineDepth"/> + 1 edges after its address.</summary>
    public override long Cycles(int lanes, bool lutMultipliers) => layer.Elements + PipelineDepth;

    /// <summary>
    /// The longest register-to-register path of posenc.vhd: index counter, read data, |x|, product, the ROM
    /// read, the signed sum (sign restored, then P added, S_BITS wide) and the requantizer stages.
    /// </summary>
    public override TimingPath CriticalPath(int lanes, bool lutMultipliers, BufferResource weights = BufferResource.Auto)
    {
        var (_, _, sBits) = Widths();
        return PipelineTiming.Longest(
            PipelineTiming.Counter(Vhdl.AddressBits(layer.Elements)),
            PipelineTiming.ReadData(),
            PipelineTiming.Ended(TimingPath.FromRegister().Adder(layer.Sources[0].Output.Bits).Luts(1)),
            PipelineTiming.Product(),
            PipelineTiming.RomRead(layer.Elements),
            PipelineTiming.Ended(TimingPath.FromRegister().Adder(sBits).Adder(sBits)),
            PipelineTiming.Requantizer(sBits, layer.Output.Bits));
    }

    private (int M0Bits, int TableBits, int SumBits) Widths()
    {
        int xb = layer.Sources[0].Output.Bits;
        long m0 = layer.Requant.Multiplier;
        int m0Bits = Vhdl.SignedWidth(m0);
        long maxTable = layer.Table.Max(v => Math.Abs(v));
        int tb = Vhdl.SignedWidth(maxTable);
        return (m0Bits, tb, Math.Max(Vhdl.SignedWidth((1L << (xb - 1)) * Math.Abs(m0) + maxTable), Math.Max(xb + m0Bits, tb)) + 1);
    }

    public override void Fill(VhdlTemplate template, int lanes, bool lutMultipliers, int outputBanks = 1, BufferResource weights = BufferResource.Auto, int outputPitch = 0)
    {
        long m0 = layer.Requant.Multiplier;
        // The template multiplies |x| by the constant: rescaling by a ratio of scales never flips a sign.
        if (m0 < 0) throw new InvalidOperationException($"{layer.Name}: negative positional-encoding multiplier");
        var (m0Bits, tb, sBits) = Widths();
        template.SetRegion("constants", Vhdl.Lines(
            Vhdl.Positive("N", layer.Elements),
            Vhdl.Positive("M0_BITS", m0Bits),
            Vhdl.Constant("M0", "unsigned(M0_BITS - 1 downto 0)", Vhdl.Bits(m0, m0Bits)),
            Vhdl.Positive("TB", tb),
            Vhdl.Positive("S_BITS", sBits),
            Vhdl.Natural("SHIFT", layer.Requant.Shift)));
        template.SetRegion("rom", Vhdl.Lines(
            Vhdl.Constant("TABLE", "table_t", Vhdl.Aggregate(layer.Table.Select(v => Vhdl.Bits(v, tb)), "    ", 6, 2, Vhdl.Bits(0, tb)))));
    }

    public override double[] Features(VhdlModule vhdl, double distributedSourceBits) => PositionalEncodingResources.Features(vhdl);

    public override (int Bram18, int Dsp) Counted(VhdlModule vhdl) => (RomBlocks.Bram18(vhdl), PositionalEncodingResources.Dsp(vhdl));
}
