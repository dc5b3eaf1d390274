using TransformerFpga.Hardware;
using TransformerFpga.Hdl;
using TransformerFpga.Quantization;

namespace TransformerFpga.Layers.Linear;

/// <summary>The hardware of a <see cref="LinearLayer"/>: template linear.vhd, its constants and its latency.</summary>
public static class LinearHardware
{
    public const string Template = "linear.vhd";
    public const string TemplateEntity = "tfpga_linear";

    /// <summary>
    /// Groups of <paramref name="lanes"/> outputs start every max(In, lanes) cycles (the writes of one group
    /// overlap the MACs of the next); the last group issues In reads, each crossing the pipelined MAC
    /// (read data, operands, product, product out, accumulator), one cycle holds its sums, then its lanes
    /// stream through the requantizer (magnitude, product, P, rounding, saturation) to the write:
    /// (groups − 1)·max(In, lanes) + In + lanes + 11.
    /// </summary>
    public static long Cycles(LinearLayer layer, int lanes) =>
        ((long)layer.Rows * (layer.Out / lanes) - 1) * Math.Max(layer.In, lanes) + layer.In + lanes + 11;

    /// <summary>
    /// The deepest register-to-register path of linear.vhd for this layer: counters and addresses, the
    /// weight ROM (depth groups·In, lanes·WeightBits wide), the read data fanning out to the lanes, the DSP
    /// or two-stage LUT product, the accumulator and the requantizer stages.
    /// </summary>
    public static TimingPath CriticalPath(LinearLayer layer, int lanes, bool lutMultipliers) =>
        MacTiming.CriticalPath(Shape(layer, lanes, lutMultipliers));

    internal static MacTiming.Shape Shape(LinearLayer layer, int lanes, bool lutMultipliers)
    {
        int groups = layer.Out / lanes;
        long counter = Math.Max((long)layer.Rows * layer.In, (long)layer.Rows * layer.Out);
        return new MacTiming.Shape(layer.InputBits, layer.WeightBits, lanes, AccumulatorWidth(layer), Vhdl.SignedWidth(layer.Requant.Multiplier),
            layer.Output.Bits, IntegerMath.BitLength(counter), groups * layer.In, lanes * layer.WeightBits, 0, lutMultipliers,
            RomBlocks.IsBlock(WeightRom(layer, lanes)));
    }

    /// <summary>Lane <paramref name="lane"/>'s weight at ROM address <paramref name="address"/> (group · In + input).</summary>
    private static long LaneWeight(LinearLayer layer, int lanes, int address, int lane) =>
        layer.Weights[(address / layer.In * lanes + lane) * layer.In + address % layer.In];

    /// <summary>
    /// The weight ROM as <see cref="Fill"/> writes it (one word of all lanes per address, at least two words) and how
    /// many of its bit columns vary, which decides where synthesis puts it.
    /// </summary>
    internal static RomShape WeightRom(LinearLayer layer, int lanes)
    {
        int groups = layer.Out / lanes, wb = layer.WeightBits, depth = Math.Max(groups * layer.In, 2);
        long mask = (1L << wb) - 1;
        int varying = 0;
        for (int l = 0; l < lanes; l++)
        {
            long ones = 0, zeros = 0;
            for (int a = 0; a < depth; a++)
            {
                long word = a < groups * layer.In ? LaneWeight(layer, lanes, a, l) & mask : 0;
                ones |= word;
                zeros |= ~word & mask;
            }
            varying += System.Numerics.BitOperations.PopCount((ulong)(ones & zeros));
        }
        return new RomShape("WEIGHTS", depth, lanes * wb, varying);
    }

    /// <summary>Signed accumulator width from the actual bias and the operand ranges (never overflows).</summary>
    public static int AccumulatorWidth(LinearLayer layer)
    {
        long maxBias = layer.Bias.Length == 0 ? 0 : layer.Bias.Max(b => Math.Abs(b));
        long product = (1L << (layer.WeightBits - 1)) * (1L << (layer.InputBits - 1));
        return Math.Max(Vhdl.SignedWidth(maxBias + layer.In * product), layer.WeightBits + layer.InputBits);
    }

    /// <param name="outBanks">Column banks of the output buffer (the lanes of the attention layer reading it), 1 for a plain buffer.</param>
    /// <param name="lutMultipliers">Build the products from shifts and adds (LUTs) instead of "*" (DSP).</param>
    public static void Fill(LinearLayer layer, int lanes, int outBanks, bool lutMultipliers, VhdlTemplate template)
    {
        if (lanes < 1 || layer.Out % lanes != 0) throw new ArgumentOutOfRangeException(nameof(lanes));
        if (outBanks < 1 || layer.Out % outBanks != 0) throw new ArgumentOutOfRangeException(nameof(outBanks));
        Multipliers.Fill(template, lutMultipliers);
        int groups = layer.Out / lanes, wb = layer.WeightBits;
        long maxBias = layer.Bias.Length == 0 ? 0 : layer.Bias.Max(b => Math.Abs(b));
        int bb = Vhdl.SignedWidth(maxBias);
        int m0Bits = Vhdl.SignedWidth(layer.Requant.Multiplier);
        template.SetRegion("constants", Vhdl.Lines(
            Vhdl.Positive("ROWS", layer.Rows),
            Vhdl.Positive("N_IN", layer.In),
            Vhdl.Positive("N_OUT", layer.Out),
            Vhdl.Positive("LANES", lanes),
            Vhdl.Positive("OUT_BANKS", outBanks),
            Vhdl.Positive("WB", wb),
            Vhdl.Positive("BB", bb),
            Vhdl.Positive("ACC_BITS", AccumulatorWidth(layer)),
            Vhdl.Positive("M0_BITS", m0Bits),
            Vhdl.Constant("M0", "signed(M0_BITS - 1 downto 0)", Vhdl.Bits(layer.Requant.Multiplier, m0Bits)),
            Vhdl.Natural("SHIFT", layer.Requant.Shift),
            Vhdl.Constant("RELU_ON", "boolean", layer.Relu ? "true" : "false")));
        // One ROM word per address holds all lanes, lane 0 in the low bits.
        string Word(Func<int, long> lane, int width) =>
            "\"" + string.Concat(Enumerable.Range(0, lanes).Reverse().Select(l => Vhdl.Bits(lane(l), width)[1..^1])) + "\"";
        var weightWords = Enumerable.Range(0, groups * layer.In).Select(a => Word(l => LaneWeight(layer, lanes, a, l), wb));
        var biasWords = Enumerable.Range(0, groups).Select(g => Word(l => layer.Bias[g * lanes + l], bb));
        template.SetRegion("rom", Vhdl.Lines(
            Vhdl.Constant("WEIGHTS", "wrom_t", Vhdl.Aggregate(weightWords, "    ", 4, 2, Word(_ => 0, wb))),
            Vhdl.Constant("BIAS", "brom_t", Vhdl.Aggregate(biasWords, "    ", 4, 2, Word(_ => 0, bb)))));
    }
}
