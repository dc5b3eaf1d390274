using TransformerFpga.Hardware;
using TransformerFpga.Hdl;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Layers.Pooling;

/// <summary>
/// The datapath of an <see cref="AveragePoolLayer"/>: pool.vhd, one accumulator streaming the window of each
/// channel, then |sum|, product and the requantizer while the next channel accumulates.
/// </summary>
public sealed class PoolingHardware(AveragePoolLayer layer) : LayerDatapath
{
    public override string Template => "pool.vhd";
    public override string TemplateEntity => "tfpga_pool";
    public override ModuleKind ModuleKind => ModuleKind.AveragePool;
    public override int MultiplierCount(int lanes) => 1;

    /// <summary>Pipeline stages from a read address to the registered output (see pool.vhd).</summary>
    public const int PipelineDepth = 7;

    /// <summary>One read per cycle over Window × Columns elements; the last channel is written <see cref="PipelineDepth"/> + 1 edges after its last address.</summary>
    public override long Cycles(int lanes, bool lutMultipliers) => (long)layer.Window * layer.Columns + PipelineDepth;

    /// <summary>
    /// The longest register-to-register path of pool.vhd: the address step (+Columns or next channel), read
    /// data, the accumulator, |sum|, the product and the requantizer stages.
    /// </summary>
    public override TimingPath CriticalPath(int lanes, bool lutMultipliers, BufferResource weights = BufferResource.Auto)
    {
        var (acc, m0Bits) = Widths();
        int addressBits = Vhdl.AddressBits((long)layer.Window * layer.Columns);
        return PipelineTiming.Longest(
            PipelineTiming.Counter(Vhdl.AddressBits(layer.Window)),
            PipelineTiming.Ended(TimingPath.FromRegister().Adder(addressBits).Luts(1)),
            PipelineTiming.ReadData(),
            PipelineTiming.Ended(TimingPath.FromRegister().Adder(acc).Luts(1)),
            PipelineTiming.Ended(TimingPath.FromRegister().Adder(acc).Luts(1)),
            PipelineTiming.Product(),
            PipelineTiming.Requantizer(acc + m0Bits, layer.Output.Bits));
    }

    private (int AccBits, int M0Bits) Widths()
    {
        int xb = layer.Sources[0].Output.Bits;
        return (Math.Max(Vhdl.SignedWidth(layer.Window * (1L << (xb - 1))), xb), Vhdl.SignedWidth(layer.Requant.Multiplier));
    }

    public override void Fill(VhdlTemplate template, int lanes, bool lutMultipliers, int outputBanks = 1, BufferResource weights = BufferResource.Auto, int outputPitch = 0)
    {
        // The template multiplies |sum| by the constant: 1/window times a ratio of scales is positive.
        if (layer.Requant.Multiplier < 0) throw new InvalidOperationException($"{layer.Name}: negative pooling multiplier");
        var (acc, m0Bits) = Widths();
        template.SetRegion("constants", Vhdl.Lines(
            Vhdl.Positive("WIN", layer.Window),
            Vhdl.Positive("DM", layer.Columns),
            Vhdl.Positive("ACC_BITS", acc),
            Vhdl.Positive("M0_BITS", m0Bits),
            Vhdl.Constant("M0", "unsigned(M0_BITS - 1 downto 0)", Vhdl.Bits(layer.Requant.Multiplier, m0Bits)),
            Vhdl.Natural("SHIFT", layer.Requant.Shift)));
    }

    public override double[] Features(VhdlModule vhdl, double distributedSourceBits) => PoolingResources.Features(vhdl);

    public override (int Bram18, int Dsp) Counted(VhdlModule vhdl) => (0, PoolingResources.Dsp(vhdl));
}
