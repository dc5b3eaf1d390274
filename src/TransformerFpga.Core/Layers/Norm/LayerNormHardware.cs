using TransformerFpga.Hardware;
using TransformerFpga.Hdl;
using TransformerFpga.Pipeline;
using TransformerFpga.Quantization;

namespace TransformerFpga.Layers.Norm;

/// <summary>
/// The datapath of a <see cref="LayerNormLayer"/>: layernorm.vhd, three stages that each hold one row and hand it on
/// when the next is idle. The front streams a row in (Σx, Σx² with x² on a multiplier, a copy into a three-row ring),
/// the middle forms Σ D², its root and the normalised reciprocal bit-serially, the back streams the row out of the
/// ring (|D|·2^sh·R and |u|·|G| on two multipliers). Each multiplier is one DSP48E1 (with MREG and PREG) up to 24 × 17
/// bits, or a two-stage LUT adder tree when the layer's multipliers are LUTs. In an Engine design one instance runs
/// every layer norm of the same shape, one job each (<see cref="Jobs"/>).
/// </summary>
public sealed class LayerNormHardware : LayerDatapath
{
    public LayerNormHardware(LayerNormLayer layer) : this([layer]) { }

    private LayerNormHardware(IReadOnlyList<LayerNormLayer> jobs) => Jobs = jobs;

    /// <summary>The layer norms this datapath runs, one per value of its job input, in that order.</summary>
    public IReadOnlyList<LayerNormLayer> Jobs { get; }

    /// <summary>The layer it was made for (the first job); the others share its shape, so its schedule is theirs.</summary>
    private LayerNormLayer Layer => Jobs[0];

    public override bool HasJobPort => true;

    /// <summary>
    /// Layer norms share an instance when its schedule and widths are theirs alike: the row length, the rows, the
    /// input and output bits and the root's bits (so each keeps its cycles), and the multipliers.
    /// </summary>
    public override string? UnitKey(bool lutMultipliers)
    {
        var s = new Shape([Layer], lutMultipliers);
        return FormattableString.Invariant($"layernorm d{s.D} rows{Layer.Rows} x{s.XBits} y{s.YBits} root{s.RootBits} {(lutMultipliers ? "lut" : "dsp")}");
    }

    /// <summary>
    /// The datapath that runs these layer norms (of one <see cref="UnitKey"/>) as its jobs, or null when their
    /// gains and offsets, scaled to the largest shift, would not fit one DSP48E1 product or 64 bits.
    /// </summary>
    public override LayerDatapath? ForJobs(IReadOnlyList<QuantizedLayer> jobs)
    {
        var norms = jobs.Cast<LayerNormLayer>().ToList();
        if (norms.Count == 1) return new LayerNormHardware(norms);
        int shift = norms.Max(n => n.Gain.Shift);
        foreach (var n in norms)
        {
            int up = shift - n.Gain.Shift;
            if (IntegerMath.BitLength(n.Gain.Multipliers.Max(v => Math.Abs(v))) + up > MaxSharedGainBits) return null;
            if (IntegerMath.BitLength(n.Offset.Max(v => Math.Abs(v))) + up > 62) return null;
        }
        return new LayerNormHardware(norms);
    }

    /// <summary>
    /// The widest scaled gain of a shared instance, in bits of its magnitude: the template's gain field is one bit
    /// wider (GB), and |u|·|G| stays one DSP48E1 product (17 × 24 bits unsigned).
    /// </summary>
    private const int MaxSharedGainBits = 23;

    public override string Template => "layernorm.vhd";
    public override string TemplateEntity => "tfpga_layernorm";
    public override ModuleKind ModuleKind => ModuleKind.LayerNorm;
    /// <summary>x², |D|·2^sh·R and |u|·|G|.</summary>
    public override int MultiplierCount(int lanes) => 3;

    /// <summary>|u_c| ≤ 2^16 because |D_c| ≤ r: 17 magnitude bits.</summary>
    public const int NormalizedMagnitudeBits = LayerNormLayer.NormalizedFractionBits + 1;

    /// <summary>R = floor((2^(L+16) − 1) / r) &lt; 2^17: 17 bits.</summary>
    public const int ReciprocalBits = LayerNormLayer.NormalizedFractionBits + 1;

    /// <summary>Clocks from the edge that starts a row's reads to the first edge its statistics can be handed on: the
    /// addresses, then read data, rd_q, S and |x|, the square's two registers and Q (layernorm.vhd F_WAIT).</summary>
    private const int FrontLatency = 7;

    /// <summary>Clocks of the middle besides S², the products with d and the root: d·Q − S², d·V + ε, r's leading zeros and shift, the 17 division steps, the hand-on.</summary>
    private const int MiddleOverhead = 22;

    /// <summary>Back stages from a ring address to the written value (layernorm.vhd BDEPTH).</summary>
    public const int BackDepth = 14;

    /// <summary>The widths of the datapath, all from bounds of |x| ≤ 2^(b-1); the tables' from every job's, scaled to the largest shift.</summary>
    private sealed record Shape(IReadOnlyList<LayerNormLayer> Jobs, bool Lut)
    {
        public LayerNormLayer Layer => Jobs[0];
        public int D => Layer.Columns;
        public int XBits => Layer.Sources[0].Output.Bits;
        public int YBits => Layer.Output.Bits;
        private long XMax => 1L << (XBits - 1);
        /// <summary>|S| ≤ d·2^(b-1).</summary>
        public long SumMax => D * XMax;
        /// <summary>Σx² ≤ d·2^(2b-2); d·Σx², S² and V = d·Σx² − S² ≤ d²·2^(2b-2); Σ D² = d·V.</summary>
        public long SquareSumMax => D * XMax * XMax;
        public long VarianceMax => D * SquareSumMax;
        public long SquaresMax => D * VarianceMax;
        public int SumBits => Vhdl.SignedWidth(SumMax);
        public int SumMagnitudeBits => IntegerMath.BitLength(SumMax);
        /// <summary>D = d·x − S: |·| ≤ d·2^b.</summary>
        public int CenteredBits => Vhdl.SignedWidth((long)D << XBits);
        public int SquareSumBits => IntegerMath.BitLength(SquareSumMax);
        public int VarianceBits => IntegerMath.BitLength(VarianceMax);
        /// <summary>The shift of the output's rounding: the largest of the jobs'.</summary>
        public int Shift => Jobs.Max(j => j.Gain.Shift);
        /// <summary>A job's gains and offsets scaled by 2^(Shift − its shift): (u·G + B)·2^-shift rounds to the same value.</summary>
        public long[] Gains(LayerNormLayer job) => job.Gain.Multipliers.Select(v => v << (Shift - job.Gain.Shift)).ToArray();
        public long[] Offsets(LayerNormLayer job) => job.Offset.Select(v => v << (Shift - job.Gain.Shift)).ToArray();
        private long MaxGain => Jobs.Max(j => Gains(j).Max(v => Math.Abs(v)));
        private long MaxOffset => Jobs.Max(j => Offsets(j).Max(v => Math.Abs(v)));
        public int GainBits => Vhdl.SignedWidth(MaxGain);
        public int OffsetBits => Vhdl.SignedWidth(MaxOffset);
        public int SBits => Math.Max(Jobs.Max(j => Vhdl.SignedWidth((1L << NormalizedMagnitudeBits) * Gains(j).Max(v => Math.Abs(v)) + Offsets(j).Max(v => Math.Abs(v)))),
            Math.Max(NormalizedMagnitudeBits + GainBits, OffsetBits)) + 1;
        /// <summary>Bits of floor(sqrt(Σ D² + E)): half the (even-rounded) bits of the radicand, at least 2 (the widest job's).</summary>
        public int RootBits => Jobs.Max(j => Math.Max(2, (IntegerMath.BitLength(SquaresMax + j.EpsilonTerm) + 1) / 2));
        /// <summary>Set bits of the constant d: the middle's products with d take one clock each; d·x adds one shifted copy per bit.</summary>
        public int DTerms => System.Numerics.BitOperations.PopCount((uint)D);
    }

    /// <summary>
    /// The three stages' schedule (layernorm.vhd). A stage takes a row the clock after the next one took its previous
    /// row: the front has row r's statistics F = d + FrontLatency clocks after it began it, the middle needs
    /// M = |S| bits + 2 × (set bits of d) + root bits + MiddleOverhead clocks, the back writes the row's last value
    /// B = d + BackDepth clocks after taking it. As F &lt; B + 1, the middle hands a row on every max(M + 1, B + 1)
    /// clocks once the first is through (F + M), and done follows the last row's last write (B).
    /// </summary>
    public override long Cycles(int lanes, bool lutMultipliers)
    {
        var s = new Shape([Layer], lutMultipliers);
        long front = s.D + FrontLatency, middle = s.SumMagnitudeBits + 2 * s.DTerms + s.RootBits + MiddleOverhead, back = s.D + BackDepth;
        return front + middle + (Layer.Rows - 1) * Math.Max(middle + 1, back + 1) + back;
    }

    /// <summary>Bits of floor(sqrt(Σ D² + E)) (Σ D_c² = d·(d·Σx² − S²) ≤ d³·2^(2b-2)).</summary>
    public int RootBits => new Shape([Layer], false).RootBits;

    /// <summary>The longest register-to-register path of the template: the candidates below, one per stage.</summary>
    public override TimingPath CriticalPath(int lanes, bool lutMultipliers, BufferResource weights = BufferResource.Auto) =>
        PipelineTiming.Longest(Paths(new Shape(Jobs, lutMultipliers)).ToArray());

    private static IEnumerable<TimingPath> Paths(Shape s)
    {
        int rt = s.RootBits, ringBits = Vhdl.AddressBits(3L * s.D);
        // read address (base + index), the ring's write and read addresses, the row and channel counters
        yield return PipelineTiming.Counter(Vhdl.AddressBits((long)s.Layer.Rows * s.D + 1));
        yield return PipelineTiming.Ended(TimingPath.FromRegister().Adder(ringBits).LutRamRead());
        yield return PipelineTiming.ReadData();
        // S += x, |x|, Q += x²
        yield return PipelineTiming.Ended(TimingPath.FromRegister().Adder(s.SumBits));
        yield return PipelineTiming.Ended(TimingPath.FromRegister().Adder(s.XBits).Luts(1));
        yield return PipelineTiming.Ended((s.Lut ? TimingPath.FromRegister() : TimingPath.FromDsp()).Adder(s.SquareSumBits));
        // the products: operand registers → DSP48E1 (taken at its combinational delay) or the LUT tree's two halves,
        // each given as (select operand bits, the tree's width with both operands' sign bits); R is taken in halves of 9 and 8 bits
        if (s.Lut)
            foreach (var (selectBits, width) in new[] { (s.XBits + 1, 2 * s.XBits + 2), (10, rt + 11), (s.GainBits + 1, NormalizedMagnitudeBits + s.GainBits + 2) })
            {
                var (first, second) = Linear.MacTiming.TreeLevels(selectBits);
                yield return PipelineTiming.Ended(Adders(TimingPath.FromRegister().Luts(1), first, width));
                yield return PipelineTiming.Ended(Adders(TimingPath.FromRegister(), second, width));
            }
        else yield return PipelineTiming.Product();
        // |S| into the middle, S² one bit per clock (the bit selects the addend in the adder's LUTs)
        yield return PipelineTiming.Ended(TimingPath.FromRegister().Adder(s.SumBits).Luts(1));
        yield return PipelineTiming.Ended(TimingPath.FromRegister().Adder(2 * s.SumMagnitudeBits).Luts(1));
        // d·Q and d·V, one set bit of d per clock (the bit's shift selected, then added); d·Q − S²; d·V + ε
        yield return PipelineTiming.Ended(TimingPath.FromRegister().Luts(s.DTerms > 4 ? 2 : 1).Adder(2 * rt));
        yield return PipelineTiming.Ended(TimingPath.FromRegister().Adder(s.VarianceBits));
        // (an instance with several jobs chooses the job's ε first)
        yield return PipelineTiming.Ended(TimingPath.FromRegister().Luts(s.Jobs.Count > 1 ? LogLevels(s.Jobs.Count, 4) : 0).Adder(2 * rt));
        // root step: compare/subtract over RT + 4 bits, then the remainder multiplexer; division step over RT + 1 bits
        yield return PipelineTiming.Ended(TimingPath.FromRegister().Adder(rt + 4).Luts(1));
        yield return PipelineTiming.Ended(TimingPath.FromRegister().Adder(rt + 1).Luts(1));
        // r's leading zeros (a priority encoder) and r shifted by them (a LUT level per two bits of the shift)
        yield return PipelineTiming.Ended(TimingPath.FromRegister().Luts(LogLevels(rt, 6) + 1));
        yield return PipelineTiming.Ended(TimingPath.FromRegister().Luts((IntegerMath.BitLength(rt - 1) + 1) / 2));
        // d·x (a shifted copy per set bit of d, added), D = d·x − S, |D|, |D|·2^sh
        yield return PipelineTiming.Ended(Adders(TimingPath.FromRegister(), Math.Max(1, s.DTerms - 1), s.CenteredBits));
        yield return PipelineTiming.Ended(TimingPath.FromRegister().Adder(s.CenteredBits));
        yield return PipelineTiming.Ended(TimingPath.FromRegister().Adder(s.CenteredBits).Luts(1));
        yield return PipelineTiming.Ended(TimingPath.FromRegister().Luts((IntegerMath.BitLength(rt - 1) + 1) / 2));
        // |u| = (P + 2^(RT-1)) >> RT from the product register (with LUT multipliers, the two halves' sum first)
        yield return PipelineTiming.Ended(s.Lut ? TimingPath.FromRegister().Adder(rt + ReciprocalBits).Adder(rt + ReciprocalBits) : TimingPath.FromDsp().Adder(rt + ReciprocalBits));
        // gain and offset ROMs (d words)
        yield return PipelineTiming.RomRead(s.D * s.Jobs.Count);
        // s = B ± |u|·|G| from the product register: the negation, then the sum
        yield return PipelineTiming.Ended((s.Lut ? TimingPath.FromRegister() : TimingPath.FromDsp()).Adder(s.SBits).Adder(s.SBits));
        yield return PipelineTiming.Requantizer(s.SBits, s.YBits);
    }

    private static TimingPath Adders(TimingPath path, int count, int bits)
    {
        for (int i = 0; i < count; i++) path.Adder(bits);
        return path;
    }

    /// <summary>LUT levels of a reduction over <paramref name="inputs"/> inputs, <paramref name="perLut"/> per LUT.</summary>
    private static int LogLevels(int inputs, int perLut)
    {
        int levels = 1;
        for (long reach = perLut; reach < inputs; reach *= perLut) levels++;
        return levels;
    }

    public override void Fill(VhdlTemplate template, int lanes, bool lutMultipliers, int outputBanks = 1, BufferResource weights = BufferResource.Auto, int outputPitch = 0)
    {
        var s = new Shape(Jobs, lutMultipliers);
        int gb = s.GainBits, bb = s.OffsetBits;
        template.SetRegion("constants", Vhdl.Lines(
            Vhdl.Positive("ROWS", Layer.Rows),
            Vhdl.Positive("DM", s.D),
            Vhdl.Positive("SUM_BITS", s.SumBits),
            Vhdl.Positive("SMAG_BITS", s.SumMagnitudeBits),
            Vhdl.Positive("SQX_BITS", s.SquareSumBits),
            Vhdl.Positive("T_BITS", s.VarianceBits),
            Vhdl.Positive("CEN_BITS", s.CenteredBits),
            Vhdl.Positive("RT_BITS", s.RootBits),
            Vhdl.Positive("JOBS", Jobs.Count),
            Vhdl.Positive("GB", gb),
            Vhdl.Positive("BB", bb),
            Vhdl.Positive("S_BITS", s.SBits),
            Vhdl.Natural("SHIFT", s.Shift)));
        // gain word: sign in bit GB, magnitude below (the multiplier takes magnitudes); DM words per job
        var gain = Jobs.SelectMany(s.Gains).Select(v => Vhdl.UnsignedBits((v < 0 ? 1L << gb : 0) | Math.Abs(v), gb + 1));
        template.SetRegion("rom", Vhdl.Lines(
            Vhdl.Constant("GAIN", "gain_rom_t", Vhdl.Aggregate(gain, "    ", 6, 2, Vhdl.UnsignedBits(0, gb + 1))),
            Vhdl.Constant("OFFSET", "offset_rom_t", Vhdl.Aggregate(Jobs.SelectMany(s.Offsets).Select(v => Vhdl.Bits(v, bb)), "    ", 4, 2, Vhdl.Bits(0, bb))),
            Vhdl.Constant("EPS", "eps_rom_t", Vhdl.Aggregate(Jobs.Select(j => Vhdl.UnsignedBits(j.EpsilonTerm, 2 * s.RootBits)), "    ", 4))));
        Multipliers.Fill(template, lutMultipliers);
    }

    public override double[] Features(VhdlModule vhdl, double distributedSourceBits) => NormResources.LayerFeatures(vhdl);

    public override (int Bram18, int Dsp) Counted(VhdlModule vhdl) => (RomBlocks.Bram18(vhdl), NormResources.LayerDsp(vhdl));

    public override int CountedLutRam(VhdlModule vhdl) => NormResources.LayerLutRam(vhdl);
}
