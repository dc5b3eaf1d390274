using TransformerFpga.Hardware;
using TransformerFpga.Hdl;

namespace TransformerFpga.Layers.Pooling;

/// <summary>
/// The hardware of an <see cref="AveragePoolLayer"/>: pool.vhd, one accumulator streaming the window of each
/// channel, then |sum|, product and the requantizer while the next channel accumulates.
/// </summary>
public static class PoolingHardware
{
    public const string Template = "pool.vhd", TemplateEntity = "tfpga_pool";

    /// <summary>Pipeline stages from a read address to the registered output (see pool.vhd).</summary>
    public const int PipelineDepth = 7;

    /// <summary>One read per cycle over Window × Columns elements; the last channel is written <see cref="PipelineDepth"/> + 1 edges after its last address.</summary>
    public static long Cycles(AveragePoolLayer layer) => (long)layer.Window * layer.Columns + PipelineDepth;

    /// <summary>
    /// The longest register-to-register path of pool.vhd: the address step (+Columns or next channel), read
    /// data, the accumulator, |sum|, the product and the requantizer stages.
    /// </summary>
    public static TimingPath CriticalPath(AveragePoolLayer layer)
    {
        var (acc, m0Bits) = Widths(layer);
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

    private static (int AccBits, int M0Bits) Widths(AveragePoolLayer layer)
    {
        int xb = layer.Sources[0].Output.Bits;
        return (Math.Max(Vhdl.SignedWidth(layer.Window * (1L << (xb - 1))), xb), Vhdl.SignedWidth(layer.Requant.Multiplier));
    }

    public static void Fill(AveragePoolLayer layer, VhdlTemplate template)
    {
        // The template multiplies |sum| by the constant: 1/window times a ratio of scales is positive.
        if (layer.Requant.Multiplier < 0) throw new InvalidOperationException($"{layer.Name}: negative pooling multiplier");
        var (acc, m0Bits) = Widths(layer);
        template.SetRegion("constants", Vhdl.Lines(
            Vhdl.Positive("WIN", layer.Window),
            Vhdl.Positive("DM", layer.Columns),
            Vhdl.Positive("ACC_BITS", acc),
            Vhdl.Positive("M0_BITS", m0Bits),
            Vhdl.Constant("M0", "unsigned(M0_BITS - 1 downto 0)", Vhdl.Bits(layer.Requant.Multiplier, m0Bits)),
            Vhdl.Natural("SHIFT", layer.Requant.Shift)));
    }
}
