using TransformerFpga.Hardware;
using TransformerFpga.Hdl;
using TransformerFpga.Pipeline;
using TransformerFpga.Quantization;

namespace TransformerFpga.Layers.Linear;

/// <summary>The datapath of a <see cref="LinearLayer"/>: template linear.vhd, its constants, latency, timing and resources.</summary>
public sealed class LinearHardware(LinearLayer layer) : LayerDatapath
{
    public override string Template => "linear.vhd";
    public override string TemplateEntity => "tfpga_linear";
    public override ModuleKind ModuleKind => ModuleKind.Linear;
    public override bool HasLanes => true;
    /// <summary>Lanes compute that many outputs at a time.</summary>
    public override int ParallelSize => layer.Out;
    public override string ParallelDimension => $"{layer.Out} outputs";
    public override bool WritesBanks => true;

    /// <summary>
    /// Groups of <paramref name="lanes"/> outputs start every max(In, lanes) cycles (the writes of one group
    /// overlap the MACs of the next); the last group issues In reads, each crossing the pipelined MAC
    /// (read data, operands, product, product out, accumulator), one cycle holds its sums, then its lanes
    /// stream through the requantizer (magnitude, product, P, rounding, saturation) to the write:
    /// (groups − 1)·max(In, lanes) + In + lanes + 11.
    /// </summary>
    public override long Cycles(int lanes, bool lutMultipliers) =>
        ((long)layer.Rows * (layer.Out / lanes) - 1) * Math.Max(layer.In, lanes) + layer.In + lanes + 11;

    /// <summary>
    /// The deepest register-to-register path of linear.vhd for this layer: counters and addresses, the
    /// weight ROM (depth groups·In, lanes·WeightBits wide), the read data fanning out to the lanes, the DSP
    /// or two-stage LUT product, the accumulator and the requantizer stages.
    /// </summary>
    public override TimingPath CriticalPath(int lanes, bool lutMultipliers, BufferResource weights = BufferResource.Auto) =>
        MacTiming.CriticalPath(Shape(lanes, lutMultipliers, weights));

    public override string WeightReadRegister => "w_q";

    internal MacTiming.Shape Shape(int lanes, bool lutMultipliers, BufferResource weights = BufferResource.Auto)
    {
        int groups = layer.Out / lanes;
        long counter = Math.Max((long)layer.Rows * layer.In, (long)layer.Rows * layer.Out);
        return new MacTiming.Shape(layer.InputBits, layer.WeightBits, lanes, AccumulatorWidth(), Vhdl.SignedWidth(layer.Requant.Multiplier),
            layer.Output.Bits, IntegerMath.BitLength(counter), groups * layer.In, lanes * layer.WeightBits, 0, lutMultipliers,
            RomBlocks.IsBlock(WeightRom(lanes, weights)));
    }

    /// <summary>Lane <paramref name="lane"/>'s weight at ROM address <paramref name="address"/> (group · In + input).</summary>
    private long LaneWeight(int lanes, int address, int lane) =>
        layer.Weights[(address / layer.In * lanes + lane) * layer.In + address % layer.In];

    /// <summary>
    /// The weight ROM as <see cref="Fill"/> writes it (one word of all lanes per address, at least two words), how
    /// many of its bit columns vary, which decides where synthesis puts it, and the memory the project chose.
    /// </summary>
    internal RomShape WeightRom(int lanes, BufferResource weights = BufferResource.Auto)
    {
        int groups = layer.Out / lanes, wb = layer.WeightBits, depth = Math.Max(groups * layer.In, 2);
        long mask = (1L << wb) - 1;
        int varying = 0;
        for (int l = 0; l < lanes; l++)
        {
            long ones = 0, zeros = 0;
            for (int a = 0; a < depth; a++)
            {
                long word = a < groups * layer.In ? LaneWeight(lanes, a, l) & mask : 0;
                ones |= word;
                zeros |= ~word & mask;
            }
            varying += System.Numerics.BitOperations.PopCount((ulong)(ones & zeros));
        }
        return new RomShape(WeightRomName, depth, lanes * wb, varying, weights);
    }

    /// <summary>Signed accumulator width from the actual bias and the operand ranges (never overflows).</summary>
    public int AccumulatorWidth()
    {
        long maxBias = layer.Bias.Length == 0 ? 0 : layer.Bias.Max(b => Math.Abs(b));
        long product = (1L << (layer.WeightBits - 1)) * (1L << (layer.InputBits - 1));
        return Math.Max(Vhdl.SignedWidth(maxBias + layer.In * product), layer.WeightBits + layer.InputBits);
    }

    /// <summary>
    /// The output buffer may be in column banks (the lanes of the attention layer reading it); with LUT multipliers
    /// the products are shifts and adds instead of "*" (DSP).
    /// </summary>
    public override void Fill(VhdlTemplate template, int lanes, bool lutMultipliers, int outputBanks = 1, BufferResource weights = BufferResource.Auto, int outputPitch = 0)
    {
        if (lanes < 1 || layer.Out % lanes != 0) throw new ArgumentOutOfRangeException(nameof(lanes));
        if (outputBanks < 1 || layer.Out % outputBanks != 0) throw new ArgumentOutOfRangeException(nameof(outputBanks));
        template.SetPortWidth("wr_bank", Vhdl.AddressBits(outputBanks));
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
            Vhdl.Positive("OUT_BANKS", outputBanks),
            Vhdl.Positive("WB", wb),
            Vhdl.Positive("BB", bb),
            Vhdl.Positive("ACC_BITS", AccumulatorWidth()),
            Vhdl.Positive("M0_BITS", m0Bits),
            Vhdl.Constant("M0", "signed(M0_BITS - 1 downto 0)", Vhdl.Bits(layer.Requant.Multiplier, m0Bits)),
            Vhdl.Natural("SHIFT", layer.Requant.Shift),
            Vhdl.Constant("RELU_ON", "boolean", layer.Relu ? "true" : "false")));
        // One ROM word per address holds all lanes, lane 0 in the low bits.
        string Word(Func<int, long> lane, int width) =>
            "\"" + string.Concat(Enumerable.Range(0, lanes).Reverse().Select(l => Vhdl.Bits(lane(l), width)[1..^1])) + "\"";
        var weightWords = Enumerable.Range(0, groups * layer.In).Select(a => Word(l => LaneWeight(lanes, a, l), wb));
        var biasWords = Enumerable.Range(0, groups).Select(g => Word(l => layer.Bias[g * lanes + l], bb));
        string weightRom = Vhdl.Aggregate(weightWords, "    ", 4, 2, Word(_ => 0, wb));
        string biasRom = Vhdl.Constant("BIAS", "brom_t", Vhdl.Aggregate(biasWords, "    ", 4, 2, Word(_ => 0, bb)));
        // A chosen memory is a rom_style attribute, which Vivado reads from a ROM signal (not a constant); the Yosys
        // script sets it again on the memory that w_q reads (GHDL drops attributes).
        template.SetRegion("rom", weights == BufferResource.Auto
            ? Vhdl.Lines(Vhdl.Constant(WeightRomName, "wrom_t", weightRom), biasRom)
            : Vhdl.Lines(
                $"signal {WeightRomName} : wrom_t := {weightRom};",
                "attribute rom_style : string;",
                $"attribute rom_style of {WeightRomName} : signal is \"{HdlGenerator.RamStyle(weights)}\";",
                biasRom));
    }

    /// <summary>
    /// y = x·Wᵀ + b on the engine: one head, a row of x per r, the weights from the engine's ROM. The first layer
    /// reads the input window, whose rows the top stores padded to whole words of the lanes (its weight rows are
    /// padded with zeros to match). A transposed output (V, read by the context along the window) is column-major,
    /// each column padded to whole words of the lanes.
    /// </summary>
    public static Engine.EngineJob EngineJob(LinearLayer layer, int lanes, bool transposedOutput)
    {
        bool readsInput = layer.Sources.Count == 0;
        int words = readsInput ? Engine.EngineJob.PaddedWords(layer.In, lanes) : Engine.EngineJob.WordsOf(layer, layer.In, "an input length", lanes);
        var weights = layer.Weights;
        if (words * lanes != layer.In)
        {
            weights = new int[layer.Out * words * lanes];
            for (int n = 0; n < layer.Out; n++)
                Array.Copy(layer.Weights, n * layer.In, weights, n * words * lanes, layer.In);
        }
        return new Engine.EngineJob(layer, 1, layer.Rows, layer.Out, words,
            readsInput ? null : layer.Sources[0].BufferOwner, 0, words,
            null, 0, words, weights, layer.WeightBits,
            0, transposedOutput ? 1 : layer.Out, transposedOutput ? Engine.EngineJob.PaddedWords(layer.Rows, lanes) * lanes : 1,
            layer.Bias, layer.Requant.Multiplier, layer.Requant.Shift, layer.Relu, new LinearHardware(layer).AccumulatorWidth(), layer.InputBits);
    }

    /// <summary>The weight ROM's name in linear.vhd (a constant, or a signal with a rom_style when the project chose its memory).</summary>
    public const string WeightRomName = "WEIGHTS";

    /// <summary>See <see cref="LinearResources.Features"/>, and the read-data bits from LUT-RAM buffers.</summary>
    public override double[] Features(VhdlModule vhdl, double distributedSourceBits) => [.. LinearResources.Features(vhdl), distributedSourceBits];

    public override (int Bram18, int Dsp) Counted(VhdlModule vhdl) => (RomBlocks.Bram18(vhdl), LinearResources.Dsp(vhdl));
}
