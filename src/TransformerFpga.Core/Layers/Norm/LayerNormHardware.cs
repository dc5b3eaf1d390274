using TransformerFpga.Hardware;
using TransformerFpga.Hdl;
using TransformerFpga.Pipeline;
using TransformerFpga.Quantization;

namespace TransformerFpga.Layers.Norm;

/// <summary>
/// The datapath of a <see cref="LayerNormLayer"/>: layernorm.vhd. Every product of a row (x², d·Σx²,
/// S², d·V, d·x, |D|·R, |u|·|G|) runs on one shared unsigned multiplier of magnitudes, A × one digit
/// of B per clock, registered at its inputs, product and output (one DSP48E1 with AREG/BREG, MREG
/// and PREG, or a single adder when the layer's multipliers are LUTs); square root and reciprocal
/// take one bit per clock.
/// </summary>
public sealed class LayerNormHardware(LayerNormLayer layer) : LayerDatapath
{
    public override string Template => "layernorm.vhd";
    public override string TemplateEntity => "tfpga_layernorm";
    public override ModuleKind ModuleKind => ModuleKind.LayerNorm;
    /// <summary>The one shared multiplier of magnitudes.</summary>
    public override int MultiplierCount(int lanes) => 1;

    /// <summary>|u_c| ≤ 2^16 because |D_c| ≤ r: 17 magnitude bits.</summary>
    public const int NormalizedMagnitudeBits = LayerNormLayer.NormalizedFractionBits + 1;

    /// <summary>B digit of the DSP48E1 (its 18-bit signed port holds 17 unsigned bits).</summary>
    public const int DspDigitBits = 17;

    /// <summary>B digit of the LUT multiplier: a·b for a 2-bit b is one adder.</summary>
    public const int LutDigitBits = 2;

    /// <summary>Clocks of a product beyond its digits: set-up, then b_q → m_q → p_q → acc.</summary>
    private const int ProductOverhead = 4;

    /// <summary>The widths of the datapath, all from bounds of |x| ≤ 2^(b-1).</summary>
    private sealed record Shape(LayerNormLayer Layer, bool Lut)
    {
        public int D => Layer.Columns;
        public int XBits => Layer.Sources[0].Output.Bits;
        public int YBits => Layer.Output.Bits;
        public int DigitBits => Lut ? LutDigitBits : DspDigitBits;
        private long XMax => 1L << (XBits - 1);
        /// <summary>|S| ≤ d·2^(b-1).</summary>
        public long SumMax => D * XMax;
        /// <summary>Σx² ≤ d·2^(2b-2); d·Σx², S² and V = d·Σx² − S² ≤ d²·2^(2b-2); Σ D² = d·V.</summary>
        public long SquareSumMax => D * XMax * XMax;
        public long VarianceMax => D * SquareSumMax;
        public long SquaresMax => D * VarianceMax;
        /// <summary>|D_c| = |Σ_j (x_c − x_j)| ≤ (d−1)(2^b − 1).</summary>
        public long CenteredMax => Math.Max(1, (D - 1) * (2 * XMax - 1));
        public int DmBits => IntegerMath.BitLength(D);
        public int SumBits => Vhdl.SignedWidth(SumMax);
        /// <summary>D and the intermediate ±d·|x| − S: |·| ≤ d·2^b.</summary>
        public int CenteredBits => Vhdl.SignedWidth((long)D << XBits);
        public int SquareSumBits => IntegerMath.BitLength(SquareSumMax);
        public int VarianceBits => IntegerMath.BitLength(VarianceMax);
        public int RecipBits => Layer.ReciprocalBits + 1;
        public int GainBits => Vhdl.SignedWidth(Layer.Gain.Multipliers.Max(v => Math.Abs(v)));
        public int OffsetBits => Vhdl.SignedWidth(Layer.Offset.Max(v => Math.Abs(v)));
        public int SBits => Math.Max(Vhdl.SignedWidth((1L << NormalizedMagnitudeBits) * Layer.Gain.Multipliers.Max(v => Math.Abs(v)) + Layer.Offset.Max(v => Math.Abs(v))),
            Math.Max(NormalizedMagnitudeBits + GainBits, OffsetBits)) + 1;
        public int ABits => new[] { XBits, DmBits, IntegerMath.BitLength(SumMax), IntegerMath.BitLength(CenteredMax), NormalizedMagnitudeBits }.Max();
        public int AccBits => new[]
        {
            IntegerMath.BitLength(SquaresMax), IntegerMath.BitLength(VarianceMax), Layer.ReciprocalBits + 1,
            NormalizedMagnitudeBits + GainBits, 2 * XBits,
        }.Max();
        public int Digits(int bits) => (bits + DigitBits - 1) / DigitBits;
        public int NdX => Digits(XBits);
        public int NdSquareSum => Digits(SquareSumBits);
        public int NdSum => Digits(IntegerMath.BitLength(SumMax));
        public int NdVariance => Digits(VarianceBits);
        public int NdRecip => Digits(RecipBits);
        public int NdGain => Digits(GainBits);
        public int BBits => DigitBits * new[] { NdX, NdSquareSum, NdSum, NdVariance, NdRecip, NdGain }.Max();
        public int RootBits => RootBitsOf(Layer);
    }

    /// <summary>
    /// Per row: the statistics pass, d × (read 2, x_c², set-up included: ND_X + 4, accumulate 1), then d·Σx²,
    /// S² and d·V (N + 4 each, one set-up state first), the square root (RootBits), the divisor load (1),
    /// the division (K + 1); the output pass, d × (read 2, d·x_c, |D|·R, |u|·|G|, each N + 4, then
    /// the centring and output-sum states, rounding, saturation and sign, 5).
    /// </summary>
    public override long Cycles(int lanes, bool lutMultipliers)
    {
        var s = new Shape(layer, lutMultipliers);
        long statistics = s.D * (2L + s.NdX + ProductOverhead + 1) + 1 + (s.NdSquareSum + ProductOverhead) + (s.NdSum + ProductOverhead) + (s.NdVariance + ProductOverhead);
        long reciprocal = s.RootBits + 1 + layer.ReciprocalBits + 1;
        long output = s.D * (2L + (s.NdX + ProductOverhead) + (s.NdRecip + ProductOverhead) + (s.NdGain + ProductOverhead) + 5);
        return layer.Rows * (statistics + reciprocal + output);
    }

    /// <summary>Bits of floor(sqrt(Σ D² + E)): half the (even-rounded) bits of the radicand (Σ D_c² = d·(d·Σx² − S²) ≤ d³·2^(2b-2)).</summary>
    public int RootBits => RootBitsOf(layer);

    private static int RootBitsOf(LayerNormLayer layer) => (IntegerMath.BitLength(new Shape(layer, false).SquaresMax + layer.EpsilonTerm) + 1) / 2;

    /// <summary>
    /// The longest register-to-register path of the template: the candidates below, one per datapath
    /// stage, each from its source register through its adders and multiplexers to its destination.
    /// The DSP48E1's own stages (A/B → M 2.4 ns, M → P 1.6 ns) are shorter than any of them.
    /// </summary>
    public override TimingPath CriticalPath(int lanes, bool lutMultipliers, BufferResource weights = BufferResource.Auto) =>
        Paths(new Shape(layer, lutMultipliers)).MaxBy(p => p.Nanoseconds)!;

    private static IEnumerable<TimingPath> Paths(Shape s)
    {
        int rt = s.RootBits, acc = s.AccBits;
        // acc = p_q or acc·2^digit + p_q (adder, then the first-digit multiplexer)
        yield return WithRegister((s.Lut ? TimingPath.FromRegister() : TimingPath.FromDsp()).Adder(acc).Luts(1));
        // LUT product a_q × b_q: one adder of the two shifted copies of a (the AND gates fold into its LUTs)
        if (s.Lut) yield return WithRegister(TimingPath.FromRegister().Adder(s.ABits + s.DigitBits));
        // operand A: the widest source is |u| = (acc + half) >> (K − 16), then the 5-way A multiplexer (2 LUT levels)
        yield return WithDsp(TimingPath.FromRegister().Adder(acc).Luts(2), s.Lut);
        // |D| and |x|, |S|: negation, then the A multiplexer
        yield return WithDsp(TimingPath.FromRegister().Adder(s.CenteredBits).Luts(2), s.Lut);
        // B shift register: V = t1 − acc, then the load/shift multiplexer (2 LUT levels)
        yield return WithRegister(TimingPath.FromRegister().Adder(Math.Max(s.VarianceBits, acc)).Luts(2));
        // B digit: gain ROM read (d words) then the load multiplexer
        yield return WithRegister(RomRead(TimingPath.FromRegister(), s.D).Luts(2));
        // running sums: S += x, Σx² += acc
        yield return WithRegister(TimingPath.FromRegister().Adder(Math.Max(s.SumBits, s.SquareSumBits)));
        // v = Σ D² + EPS
        yield return WithRegister(TimingPath.FromRegister().Adder(2 * rt).Luts(1));
        // square-root step: compare/subtract over RT + 4 bits, then the remainder multiplexer
        yield return WithRegister(TimingPath.FromRegister().Adder(rt + 4).Luts(1));
        // division step: compare/subtract over RT + 1 bits, then the remainder multiplexer
        yield return WithRegister(TimingPath.FromRegister().Adder(rt + 1).Luts(1));
        // D = −S ± d·|x| (two adders side by side, then a multiplexer)
        yield return WithRegister(TimingPath.FromRegister().Adder(s.CenteredBits).Luts(1));
        // s = B[c] ± acc: offset ROM read, adder, multiplexer
        yield return WithRegister(RomRead(TimingPath.FromRegister(), s.D).Adder(s.SBits).Luts(1));
        // rounding (half ± s) and sign: one adder each; saturation: OR of the upper bits (two LUT levels), then the multiplexer
        yield return WithRegister(TimingPath.FromRegister().Adder(s.SBits + 1).Luts(1));
        yield return WithRegister(TimingPath.FromRegister().Luts(3));
        yield return WithRegister(TimingPath.FromRegister().Adder(s.YBits + 1).Luts(1));
        // read-address register: rbase + c + 1
        yield return WithRegister(TimingPath.FromRegister().Adder(Vhdl.AddressBits((long)s.Layer.Rows * s.D + 1)).Luts(1));
    }

    /// <summary>A ROM of <paramref name="words"/> words in LUTs: one LUT6 per 64 words, MUXF7/F8 up to 256, a LUT level per further 4×.</summary>
    private static TimingPath RomRead(TimingPath path, int words)
    {
        path.Luts(1);
        if (words > 64) path.MuxF7();
        if (words > 128) path.MuxF7();
        for (long w = 256; w < words; w *= 4) path.Luts(1);
        return path;
    }

    private static TimingPath WithRegister(TimingPath path)
    {
        path.ToRegister();
        return path;
    }

    private static TimingPath WithDsp(TimingPath path, bool lut)
    {
        if (lut) path.ToRegister();
        else path.ToDsp();
        return path;
    }

    public override void Fill(VhdlTemplate template, int lanes, bool lutMultipliers, int outputBanks = 1, BufferResource weights = BufferResource.Auto, int outputPitch = 0)
    {
        var s = new Shape(layer, lutMultipliers);
        int gb = s.GainBits, bb = s.OffsetBits;
        template.SetRegion("constants", Vhdl.Lines(
            Vhdl.Positive("ROWS", layer.Rows),
            Vhdl.Positive("DM", s.D),
            Vhdl.Positive("DM_BITS", s.DmBits),
            Vhdl.Positive("SUM_BITS", s.SumBits),
            Vhdl.Positive("SQX_BITS", s.SquareSumBits),
            Vhdl.Positive("T_BITS", s.VarianceBits),
            Vhdl.Positive("CEN_BITS", s.CenteredBits),
            Vhdl.Positive("SQ_BITS", IntegerMath.BitLength(s.SquaresMax)),
            Vhdl.Positive("RT_BITS", s.RootBits),
            Vhdl.Constant("EPS", "unsigned(2 * RT_BITS - 1 downto 0)", Vhdl.UnsignedBits(layer.EpsilonTerm, 2 * s.RootBits)),
            Vhdl.Positive("K", layer.ReciprocalBits),
            Vhdl.Positive("NORM_BITS", NormalizedMagnitudeBits),
            Vhdl.Positive("GB", gb),
            Vhdl.Positive("BB", bb),
            Vhdl.Positive("S_BITS", s.SBits),
            Vhdl.Natural("SHIFT", layer.Gain.Shift),
            Vhdl.Positive("A_BITS", s.ABits),
            Vhdl.Positive("DIGIT_BITS", s.DigitBits),
            Vhdl.Positive("B_BITS", s.BBits),
            Vhdl.Positive("ACC_BITS", s.AccBits),
            Vhdl.Positive("ND_X", s.NdX),
            Vhdl.Positive("ND_SQX", s.NdSquareSum),
            Vhdl.Positive("ND_S", s.NdSum),
            Vhdl.Positive("ND_V", s.NdVariance),
            Vhdl.Positive("ND_R", s.NdRecip),
            Vhdl.Positive("ND_G", s.NdGain)));
        // gain word: sign in bit GB, magnitude below (the multiplier takes magnitudes)
        var gain = layer.Gain.Multipliers.Select(v => Vhdl.UnsignedBits((v < 0 ? 1L << gb : 0) | Math.Abs(v), gb + 1));
        template.SetRegion("rom", Vhdl.Lines(
            Vhdl.Constant("GAIN", "gain_rom_t", Vhdl.Aggregate(gain, "    ", 6, 2, Vhdl.UnsignedBits(0, gb + 1))),
            Vhdl.Constant("OFFSET", "offset_rom_t", Vhdl.Aggregate(layer.Offset.Select(v => Vhdl.Bits(v, bb)), "    ", 4, 2, Vhdl.Bits(0, bb)))));
        template.SetRegion("multiplier", lutMultipliers
            ?
            [
                "function digit_mul(a : unsigned; b : unsigned) return unsigned is",
                "  variable p : signed(a'length + b'length + 1 downto 0);",
                "begin",
                "  p := mul_shift_add(signed('0' & a), signed('0' & b));",
                "  return unsigned(p(a'length + b'length - 1 downto 0));",
                "end function;",
            ]
            :
            [
                "function digit_mul(a : unsigned; b : unsigned) return unsigned is",
                "begin",
                "  return a * b;",
                "end function;",
            ]);
        template.SetRegion("entity-attributes", lutMultipliers
            ? ["attribute use_dsp : string;", $"attribute use_dsp of {Multipliers.EntityOf(template)} : entity is \"no\";"]
            : []);
    }

    public override double[] Features(VhdlModule vhdl, double distributedSourceBits) => NormResources.LayerFeatures(vhdl);

    public override (int Bram18, int Dsp) Counted(VhdlModule vhdl) => (RomBlocks.Bram18(vhdl), NormResources.LayerDsp(vhdl));
}
