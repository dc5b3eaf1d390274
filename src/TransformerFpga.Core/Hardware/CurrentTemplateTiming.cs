using TransformerFpga.Hdl;
using TransformerFpga.Layers.Attention;
using TransformerFpga.Layers.Linear;
using TransformerFpga.Layers.Norm;
using TransformerFpga.Layers.Pooling;
using TransformerFpga.Layers.PositionalEncoding;
using TransformerFpga.Layers.Residual;

namespace TransformerFpga.Hardware;

/// <summary>
/// The critical register-to-register path of each layer template as it is written today (one method
/// per kind, the signatures the kinds' own timing will have). The paths are the ones static timing
/// finds in the mapped netlists: the requantizer (|p|, + half, shift, sign restored, saturate) in one
/// cycle after its product register, and in the MAC layers the read data of the source buffer through
/// the multiplier into the accumulator. Read data comes from a block RAM without output register or,
/// when the source buffers are distributed, from the buffer's read register.
/// </summary>
public static class CurrentTemplateTiming
{
    /// <summary>Assumed width of a requantizer's product where the template sizes it from the data (norms, residual, pooling, encoding).</summary>
    private const int TypicalProductBits = 24;

    public static TimingPath CriticalPath(LinearLayer layer, int lanes, bool lut, bool blockRamSource = true)
    {
        int accBits = LinearHardware.AccumulatorWidth(layer);
        var mac = Mac(layer.WeightBits, layer.InputBits, accBits, lut, blockRamSource);
        var requant = Requantizer(accBits + Vhdl.SignedWidth(layer.Requant.Multiplier), layer.Requant.Shift, lut, layer.Requant.Multiplier, accBits);
        return Worst(mac, requant);
    }

    public static TimingPath CriticalPath(ScoresLayer layer, int lanes, bool lut, bool blockRamSource = true)
    {
        int qb = layer.Sources[0].Output.Bits, kb = layer.Sources[1].Output.Bits;
        int accBits = Math.Max(Vhdl.SignedWidth(layer.HeadDim * (1L << (qb - 1)) * (1L << (kb - 1))), qb + kb);
        var mac = Mac(qb, kb, accBits, lut, blockRamSource);
        var requant = Requantizer(accBits + Vhdl.SignedWidth(layer.Requant.Multiplier), layer.Requant.Shift, lut, layer.Requant.Multiplier, accBits);
        return Worst(mac, requant);
    }

    public static TimingPath CriticalPath(ContextLayer layer, int lanes, bool lut, bool blockRamSource = true)
    {
        int pb = layer.Sources[0].Output.Bits, vb = layer.Sources[1].Output.Bits;
        int accBits = Math.Max(Vhdl.SignedWidth(layer.Window * (1L << (pb - 1)) * (1L << (vb - 1))), pb + vb);
        var mac = Mac(vb, pb, accBits, lut, blockRamSource);
        var requant = Requantizer(accBits + Vhdl.SignedWidth(layer.Requant.Multiplier), layer.Requant.Shift, lut, layer.Requant.Multiplier, accBits);
        return Worst(mac, requant);
    }

    /// <summary>The reciprocal product: exp × quotient in one DSP48E1 pair, then the rounding adder.</summary>
    public static TimingPath CriticalPath(SoftmaxLayer layer) =>
        TimingPath.FromDsp().DspCombinational().DspCombinational().Adder(16).Luts(1).EndAtRegister();

    /// <summary>x·m0 + offset of a wide gain: two DSP48E1 in series, then the sum.</summary>
    public static TimingPath CriticalPath(BatchNormLayer layer, bool blockRamSource = true) =>
        Worst((blockRamSource ? TimingPath.FromBlockRam(false) : TimingPath.FromRegister()).DspCombinational().DspCombinational().Adder(8).EndAtRegister(), Requantizer(TypicalProductBits, layer.Scale.Shift, false, 0, 0));

    /// <summary>
    /// The normalization: centred value × reciprocal (a product wider than one DSP48E1: two in series)
    /// rounded and shifted (|p|, + half, sign restored) in the same cycle.
    /// </summary>
    public static TimingPath CriticalPath(LayerNormLayer layer, bool lut)
    {
        int cenBits = Vhdl.SignedWidth(2L * layer.Columns * (1L << (layer.Sources[0].Output.Bits - 1)));
        int productBits = cenBits + layer.ReciprocalBits + 2;
        int shift = Math.Max(0, layer.ReciprocalBits - 16);
        var normalize = TimingPath.FromRegister().DspCombinational().DspCombinational()
            .Adder(productBits + 1).Adder(8).Adder(productBits + 1 - shift).EndAtRegister();
        return Worst(normalize, Requantizer(TypicalProductBits, layer.Gain.Shift, false, 0, 0));
    }

    public static TimingPath CriticalPath(ResidualAddLayer layer) => Requantizer(TypicalProductBits, layer.Requant.Shift, false, 0, 0);

    public static TimingPath CriticalPath(PositionalEncodingLayer layer) => Requantizer(TypicalProductBits, 8, false, 0, 0);

    public static TimingPath CriticalPath(AveragePoolLayer layer) => Requantizer(TypicalProductBits, 8, false, 0, 0);

    /// <summary>The sequencer of the top: step compare, done select and the start decode.</summary>
    public static TimingPath Sequencer(int layers) =>
        TimingPath.FromRegister().Adder(Math.Max(2, Vhdl.AddressBits(layers))).Luts(1).MuxF7().Luts(1).MuxF7().Luts(1).EndAtRegister();

    /// <summary>
    /// Source read → multiply → accumulate in one cycle. A LUT multiplier is a chain of one conditional
    /// adder per bit of the data operand; "*" maps to a DSP48E1 whose accumulator is its P register.
    /// </summary>
    private static TimingPath Mac(int weightBits, int dataBits, int accBits, bool lut, bool blockRamSource)
    {
        var path = blockRamSource ? TimingPath.FromBlockRam(false) : TimingPath.FromRegister();
        if (!lut) return path.EndInDspAccumulator();
        path.Luts(1);
        for (int i = 1; i < dataBits; i++) path.Luts(1).Adder(weightBits);
        return path.Adder(accBits - weightBits - dataBits + 8).EndAtRegister();
    }

    /// <summary>
    /// The requantizer after its product register: magnitude (negate), + half and shift, sign restored
    /// (negate), saturation compare and select. With LUT multipliers the product by the constant M0 is a
    /// chain of one adder per further set bit of M0 from the held sum.
    /// </summary>
    private static TimingPath Requantizer(int productBits, int shift, bool lut, long m0, int accBits)
    {
        var round = TimingPath.FromRegister().Adder(productBits + 1).Adder(8).Adder(productBits + 1 - shift).Luts(2).Adder(4).Luts(1).EndAtRegister();
        if (!lut) return round;
        var product = TimingPath.FromRegister();
        int setBits = System.Numerics.BitOperations.PopCount((ulong)Math.Abs(m0));
        for (int i = 1; i < setBits; i++) product.Adder(accBits + 4);
        return Worst(round, product.Luts(1).EndAtRegister());
    }

    private static TimingPath Worst(params TimingPath[] paths) => paths.MaxBy(p => p.Nanoseconds)!;
}
