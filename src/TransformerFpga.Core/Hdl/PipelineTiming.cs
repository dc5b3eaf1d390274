using TransformerFpga.Hardware;

namespace TransformerFpga.Hdl;

/// <summary>
/// Register-to-register paths the pipelined non-MAC templates share: the registered read of a source
/// buffer, a product between registers, and the three requantizer stages of tfpga_pkg.vhd
/// (magnitude, round_half_up, signed_saturate).
/// </summary>
public static class PipelineTiming
{
    /// <summary>The slowest of <paramref name="paths"/> (each already ended at its register).</summary>
    public static TimingPath Longest(params TimingPath[] paths) => paths.MaxBy(p => p.Nanoseconds)!;

    /// <summary>Ends <paramref name="path"/> at a fabric flip-flop and returns it.</summary>
    public static TimingPath Ended(TimingPath path)
    {
        path.ToRegister();
        return path;
    }

    /// <summary>A source buffer's read data into the layer's own register: block RAM without its output register is the slower case.</summary>
    public static TimingPath ReadData() => Ended(TimingPath.FromBlockRam(outputRegister: false));

    /// <summary>A product of two registered operands into a register (at worst the DSP48E1 without its A/B and M registers).</summary>
    public static TimingPath Product() => Ended(TimingPath.FromRegister().DspCombinational());

    /// <summary>A <paramref name="bits"/>-bit index counter: its increment, or its compare with the last index selecting the next value.</summary>
    public static TimingPath Counter(int bits) => Ended(TimingPath.FromRegister().Adder(bits).Luts(1));

    /// <summary>A ROM of <paramref name="depth"/> words in LUTs read into a register: LUT6s of 64 words, MUXF7/F8 up to 256, then a LUT level per further factor of 4.</summary>
    public static TimingPath RomRead(int depth)
    {
        var path = TimingPath.FromRegister().Luts(1);
        if (depth > 64) path.MuxF7();
        if (depth > 128) path.MuxF7();
        for (long words = 256; words < depth; words *= 4) path.Luts(1);
        return Ended(path);
    }

    /// <summary>The longest requantizer stage for a <paramref name="sumBits"/>-bit sum and <paramref name="outBits"/>-bit output.</summary>
    public static TimingPath Requantizer(int sumBits, int outBits) => Longest(
        // |v|: the negation, the sign selecting in the adder's LUTs plus one
        Ended(TimingPath.FromRegister().Adder(sumBits).Luts(1)),
        // (m + 2^(n-1)) >> n
        Ended(TimingPath.FromRegister().Adder(sumBits + 1)),
        // m >= 2^(bits-1), the clamp, then the sign restored
        Ended(TimingPath.FromRegister().Adder(sumBits).Luts(1).Adder(outBits)));
}
