using TransformerFpga.Hardware;
using TransformerFpga.Hdl;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Layers.Norm;

/// <summary>
/// The datapath of a <see cref="BatchNormLayer"/>: batchnorm.vhd, a per-channel affine streaming one element
/// per cycle through read, read-data register, |x| with the gain word, product with the offset word, signed
/// sum, and the three requantizer stages.
/// </summary>
public sealed class BatchNormHardware(BatchNormLayer layer) : LayerDatapath
{
    public override string Template => "batchnorm.vhd";
    public override string TemplateEntity => "tfpga_batchnorm";
    public override ModuleKind ModuleKind => ModuleKind.BatchNorm;
    public override int MultiplierCount(int lanes) => 1;

    /// <summary>Pipeline stages from a read address to the registered output (see batchnorm.vhd).</summary>
    public const int PipelineDepth = 8;

    /// <summary>One element per cycle; the last one is written <see cref="PipelineDepth"/> + 1 edges after its address.</summary>
    public override long Cycles(int lanes, bool lutMultipliers) => layer.Elements + PipelineDepth;

    /// <summary>
    /// The longest register-to-register path of batchnorm.vhd: index and channel counters, read data, |x|,
    /// the gain and offset ROM reads (DM words), the product, the signed sum (sign restored, then the offset
    /// added, S_BITS wide) and the requantizer stages.
    /// </summary>
    public override TimingPath CriticalPath(int lanes, bool lutMultipliers, BufferResource weights = BufferResource.Auto)
    {
        var (_, _, sBits) = Widths();
        return PipelineTiming.Longest(
            PipelineTiming.Counter(Vhdl.AddressBits(layer.Elements)),
            PipelineTiming.ReadData(),
            PipelineTiming.Ended(TimingPath.FromRegister().Adder(layer.Sources[0].Output.Bits).Luts(1)),
            PipelineTiming.RomRead(layer.Columns),
            PipelineTiming.Product(),
            PipelineTiming.Ended(TimingPath.FromRegister().Adder(sBits).Adder(sBits)),
            PipelineTiming.Requantizer(sBits, layer.Output.Bits));
    }

    private (int M0Bits, int OffsetBits, int SumBits) Widths()
    {
        int xb = layer.Sources[0].Output.Bits;
        long maxM0 = layer.Scale.Multipliers.Max(v => Math.Abs(v)), maxOffset = layer.Offset.Max(v => Math.Abs(v));
        int m0Bits = Vhdl.SignedWidth(maxM0), ob = Vhdl.SignedWidth(maxOffset);
        return (m0Bits, ob, Math.Max(Vhdl.SignedWidth((1L << (xb - 1)) * maxM0 + maxOffset), Math.Max(xb + m0Bits, ob)) + 1);
    }

    public override void Fill(VhdlTemplate template, int lanes, bool lutMultipliers, int outputBanks = 1, BufferResource weights = BufferResource.Auto, int outputPitch = 0)
    {
        var (m0Bits, ob, sBits) = Widths();
        // Gains in sign-and-magnitude: the product multiplies magnitudes (one DSP48E1 for up to 24 × 17 bits).
        long SignMagnitude(long v) => (v < 0 ? 1L << (m0Bits - 1) : 0) | Math.Abs(v);
        template.SetRegion("constants", Vhdl.Lines(
            Vhdl.Positive("ROWS", layer.Rows),
            Vhdl.Positive("DM", layer.Columns),
            Vhdl.Positive("M0_BITS", m0Bits),
            Vhdl.Positive("OB", ob),
            Vhdl.Positive("S_BITS", sBits),
            Vhdl.Natural("SHIFT", layer.Scale.Shift)));
        template.SetRegion("rom", Vhdl.Lines(
            Vhdl.Constant("GAIN", "m0_rom_t", Vhdl.Aggregate(layer.Scale.Multipliers.Select(v => Vhdl.UnsignedBits(SignMagnitude(v), m0Bits)), "    ", 6, 2, Vhdl.UnsignedBits(0, m0Bits))),
            Vhdl.Constant("OFFSET", "off_rom_t", Vhdl.Aggregate(layer.Offset.Select(v => Vhdl.Bits(v, ob)), "    ", 6, 2, Vhdl.Bits(0, ob)))));
    }

    public override double[] Features(VhdlModule vhdl, double distributedSourceBits) => NormResources.BatchFeatures(vhdl);

    public override (int Bram18, int Dsp) Counted(VhdlModule vhdl) => (RomBlocks.Bram18(vhdl), NormResources.BatchDsp(vhdl));
}
