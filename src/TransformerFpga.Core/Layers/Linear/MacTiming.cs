using TransformerFpga.Hardware;
using TransformerFpga.Quantization;

namespace TransformerFpga.Layers.Linear;

/// <summary>
/// The register-to-register paths shared by the pipelined MAC templates (linear.vhd, scores.vhd,
/// context.vhd), derived from their structure: the stage each register closes and the logic in front of it.
/// </summary>
public static class MacTiming
{
    /// <summary>A high-fan-out net is replicated by synthesis/placement; each factor of this many loads costs one more level.</summary>
    public const int LoadsPerLevel = 16;

    /// <summary>Shape of one MAC template instance.</summary>
    /// <param name="OperandBits">Width of the operand that fans out from the read-data register (a).</param>
    /// <param name="SelectBits">Width of the operand whose bits select the LUT multiplier's partial products (b).</param>
    /// <param name="Lanes">MAC lanes: loads on the shared read-data register.</param>
    /// <param name="AccumulatorBits">Signed width of the accumulator (ACC_BITS).</param>
    /// <param name="MultiplierBits">Signed width of the requantizer's M0 (M0_BITS).</param>
    /// <param name="OutputBits">Width of the written result.</param>
    /// <param name="CounterBits">Widest issue or write counter / address sum.</param>
    /// <param name="RomDepth">Words of the weight ROM read each cycle (0 when there is none).</param>
    /// <param name="RomWidth">Bits of one ROM word (all lanes).</param>
    /// <param name="SumStages">Registered stages summing the lanes' products (scores), each adding up to four values.</param>
    /// <param name="WeightsInBlockRam">Synthesis puts the weight ROM in block RAM (<see cref="RomBlocks"/>): the weight
    /// register is then the RAMB's read latch, without its output register.</param>
    public sealed record Shape(int OperandBits, int SelectBits, int Lanes, int AccumulatorBits, int MultiplierBits, int OutputBits,
        int CounterBits, int RomDepth, int RomWidth, int SumStages, bool LutMultipliers, bool WeightsInBlockRam = false);

    /// <summary>The deepest register-to-register path of the template.</summary>
    public static TimingPath CriticalPath(Shape s) => Paths(s).MaxBy(p => p.Nanoseconds)!;

    /// <summary>Every register-to-register path class of the template, each at its worst width.</summary>
    public static IEnumerable<TimingPath> Paths(Shape s)
    {
        int productBits = s.OperandBits + s.SelectBits;
        int m0Bits = Math.Max(s.MultiplierBits - 1, 1);
        int requantBits = s.AccumulatorBits + m0Bits;

        // issue and write counters: an incrementer or address sum, then the compare/select LUT
        yield return Finish(TimingPath.FromRegister().Adder(s.CounterBits).Luts(1));
        // source read address (base + index) into the buffer's memory, read data registered there
        yield return Finish(TimingPath.FromRegister().Adder(s.CounterBits).LutRamRead());
        // read data into the consumer's register (block RAM without its output register)
        yield return Finish(TimingPath.FromBlockRam(outputRegister: false));
        // weight ROM word from its registered address (a block-RAM ROM reads the address in the RAMB)
        if (s.RomDepth > 0 && !s.WeightsInBlockRam) yield return Finish(RomRead(FanOut(TimingPath.FromRegister(), s.RomWidth * Math.Max(1, s.RomDepth / 64)), s.RomDepth));

        if (s.LutMultipliers)
        {
            var (first, second) = TreeLevels(s.SelectBits);
            // read data (fan-out to the lanes) → partial products (a LUT selecting the shifted operand by a weight
            // bit) and the first half of the tree
            yield return Finish(Adders(FanOut(TimingPath.FromRegister(), s.Lanes).Luts(1), first, productBits));
            // the weight bits select the partial products: from the RAMB's data output when the ROM is in block RAM
            if (s.WeightsInBlockRam) yield return Finish(Adders(TimingPath.FromBlockRam(outputRegister: false).Luts(1), first, productBits));
            // second half of the tree → product register
            yield return Finish(Adders(TimingPath.FromRegister(), second, productBits));
            var (qFirst, qSecond) = TreeLevels(m0Bits + 1);
            yield return Finish(Adders(TimingPath.FromRegister(), qFirst, requantBits + 2));
            yield return Finish(Adders(TimingPath.FromRegister(), qSecond, requantBits + 2));
        }
        else
        {
            // operand registers in the fabric (fan-out to the lanes) → DSP48E1 multiplier → MREG
            // (taken at the fully combinational A → P delay: an upper bound when AREG/BREG are not packed)
            yield return Finish(FanOut(TimingPath.FromRegister(), s.Lanes).DspCombinational());
        }

        // P (or the LUT tree's product register) → rounding adder
        yield return Finish((s.LutMultipliers ? TimingPath.FromRegister() : TimingPath.FromDsp()).Adder(requantBits + 1));
        // product out (P) → accumulator, or the last lane sum → accumulator: the first/accumulate select
        // sits in the adder's LUT
        var product = s.LutMultipliers || s.SumStages > 0 ? TimingPath.FromRegister() : TimingPath.FromDsp();
        yield return Finish(product.Adder(s.AccumulatorBits));
        // lane sums of four: two adder levels per stage (the first from the DSP products)
        if (s.SumStages > 0)
            yield return Finish(Adders(s.LutMultipliers ? TimingPath.FromRegister() : TimingPath.FromDsp(), 2, s.AccumulatorBits));
        // held sum → magnitude (conditional negation)
        yield return Finish(TimingPath.FromRegister().Adder(s.AccumulatorBits + 1));
        // rounded magnitude → saturation compare (its bits first reduced by a LUT level: the netlists show two LUTs
        // before the compare's carry chain), clamp select, sign restore (negation), ReLU select
        yield return Finish(TimingPath.FromRegister().Luts(1).Adder(requantBits).Luts(1).Adder(s.OutputBits + 1).Luts(1));
    }

    /// <summary>
    /// Adder levels of the LUT multiplier before and after its register: partial products over
    /// <paramref name="selectBits"/> (rounded up to even), halved per level, the register after ceil(levels / 2).
    /// </summary>
    public static (int First, int Second) TreeLevels(int selectBits)
    {
        int terms = selectBits + selectBits % 2;
        int levels = IntegerMath.BitLength(terms - 1);
        int first = (levels + 1) / 2;
        return (first, levels - first);
    }

    /// <summary>
    /// Registered stages of a MAC template's sum over its lanes (scores.vhd, engine.vhd: tfpga_pkg sum_stages), each
    /// adding up to four values.
    /// </summary>
    public static int SumStages(int lanes)
    {
        int stages = 0;
        for (int count = lanes; count > 1; count = (count + 3) / 4) stages++;
        return stages;
    }

    /// <summary>
    /// A ROM read from LUTs: one LUT6 per 64 words, MUXF7/MUXF8 up to 256 words, then one LUT level
    /// (a 4:1 multiplexer) per further factor of four.
    /// </summary>
    public static TimingPath RomRead(TimingPath path, int depth)
    {
        path.Luts(1);
        if (depth > 64) path.MuxF7();
        if (depth > 128) path.MuxF7();
        for (long words = 256; words < depth; words *= 4) path.Luts(1);
        return path;
    }

    /// <summary>One replication level per factor of <see cref="LoadsPerLevel"/> loads beyond the first.</summary>
    public static TimingPath FanOut(TimingPath path, long loads)
    {
        for (long reach = LoadsPerLevel; reach < loads; reach *= LoadsPerLevel) path.Luts(1);
        return path;
    }

    internal static TimingPath Adders(TimingPath path, int levels, int bits)
    {
        for (int i = 0; i < levels; i++) path.Adder(bits);
        return path;
    }

    internal static TimingPath Finish(TimingPath path)
    {
        path.ToRegister();
        return path;
    }
}
