namespace TransformerFpga.Hardware;

/// <summary>
/// Delays of a -1 speed-grade Spartan-7 / Artix-7, in ns, as Vivado's timing reports show them for
/// the cells the generated designs map to. Sources: flip-flop clock→Q, setup, LUT, RAMB18 and DSP48E1
/// figures are typical -1 values from Vivado timing reports (DS181 speed-grade tables agree in range);
/// the CARRY4 arcs are the specify block of Yosys' xilinx/cells_sim.v (ps); routing is 0.6 ns per
/// net hop (a routed XC7S15 design at 100 MHz spends 6.44 ns of its 7.87 ns critical path on 11 nets);
/// dedicated carry, MUXF and DSP cascade links cost no routing.
/// </summary>
public static class Delays
{
    public const double ClockToQ = 0.46;
    public const double Setup = 0.06;
    public const double Lut = 0.12;
    public const double NetHop = 0.6;
    /// <summary>RAMB18 clock → DO with the output register off (DOA_REG = 0).</summary>
    public const double BlockRamClockToOut = 2.45;
    /// <summary>RAMB18 clock → DO from its output register (DOA_REG = 1).</summary>
    public const double BlockRamRegisteredClockToOut = 0.9;
    /// <summary>RAMB18/RAMB36 setup of address, data and enable inputs before the clock.</summary>
    public const double BlockRamSetup = 0.57;
    /// <summary>SRL16E/SRLC32E clock → Q (the shift register's own clock-to-out, slower than a flip-flop's).</summary>
    public const double ShiftRegisterClockToOut = 1.3;
    /// <summary>LUT RAM (RAM64M/RAM32M) address → read data, asynchronous read.</summary>
    public const double LutRamRead = 1.0;
    /// <summary>DSP48E1 A/B → P with no internal register (fully combinational).</summary>
    public const double DspCombinational = 3.8;
    /// <summary>DSP48E1 AREG/BREG → MREG (the multiplier between its own registers).</summary>
    public const double DspMultiplyStage = 2.4;
    /// <summary>DSP48E1 MREG → PREG (the post-adder between its own registers).</summary>
    public const double DspAddStage = 1.6;
    /// <summary>DSP48E1 PREG clock → P output to the fabric.</summary>
    public const double DspClockToOut = 0.64;
    /// <summary>DSP48E1 setup of its A/B inputs (AREG/BREG) from the fabric.</summary>
    public const double DspInputSetup = 0.3;
    /// <summary>CARRY4: S[0] → CO[3] (entering the chain from its first LUT).</summary>
    public const double CarryEnter = 0.508;
    /// <summary>CARRY4: CI → CO[3] (each further 4 bits of the chain).</summary>
    public const double CarryPer4 = 0.114;
    /// <summary>CARRY4: CI → O[3] (the sum bits of the last CARRY4).</summary>
    public const double CarryExit = 0.313;
    /// <summary>MUXF7 select → O (wide multiplexers, ROM reads of more than 64 words).</summary>
    public const double MuxF7 = 0.296;
}

/// <summary>
/// One register-to-register path, built from its start point through the cells it crosses; each
/// fabric cell costs its delay plus one net hop to reach it.
/// </summary>
public sealed class TimingPath
{
    private readonly List<string> _steps = [];

    private TimingPath(double ns, string start)
    {
        Nanoseconds = ns;
        _steps.Add(start);
    }

    public double Nanoseconds { get; private set; }
    public int Hops { get; private set; }
    public IReadOnlyList<string> Steps => _steps;

    public static TimingPath FromRegister() => new(Delays.ClockToQ, "FF");
    public static TimingPath FromBlockRam(bool outputRegister) =>
        new(outputRegister ? Delays.BlockRamRegisteredClockToOut : Delays.BlockRamClockToOut, outputRegister ? "RAMB18(DO_REG)" : "RAMB18");
    public static TimingPath FromDsp() => new(Delays.DspClockToOut, "DSP48E1.P");

    private TimingPath Add(double ns, bool hop, string step)
    {
        Nanoseconds += ns + (hop ? Delays.NetHop : 0);
        if (hop) Hops++;
        _steps.Add(step);
        return this;
    }

    /// <summary><paramref name="levels"/> LUTs in series.</summary>
    public TimingPath Luts(int levels)
    {
        for (int i = 0; i < levels; i++) Add(Delays.Lut, true, "LUT");
        return this;
    }

    /// <summary>A ripple-carry adder or comparator of <paramref name="bits"/> bits: its LUT, then the CARRY4 chain.</summary>
    public TimingPath Adder(int bits)
    {
        int carry4 = Math.Max(1, (bits + 3) / 4);
        Add(Delays.Lut, true, "LUT");
        return Add(Delays.CarryEnter + (carry4 - 1) * Delays.CarryPer4 + Delays.CarryExit - Delays.CarryPer4, false, $"CARRY4×{carry4}");
    }

    /// <summary>A LUT-RAM asynchronous read (address net → data).</summary>
    public TimingPath LutRamRead() => Add(Delays.LutRamRead, true, "LUTRAM");

    /// <summary>A wide multiplexer level (MUXF7/F8 after the LUT).</summary>
    public TimingPath MuxF7() => Add(Delays.MuxF7, false, "MUXF7");

    /// <summary>A DSP48E1 without internal registers (operands from the fabric, product to the fabric).</summary>
    public TimingPath DspCombinational() => Add(Delays.DspCombinational, true, "DSP48E1(comb)");

    /// <summary>Ends at a fabric flip-flop.</summary>
    public double ToRegister() => EndAtRegister().Nanoseconds;

    /// <summary>Ends at a fabric flip-flop; the finished path.</summary>
    public TimingPath EndAtRegister() => Add(Delays.Setup, true, "FF");

    /// <summary>Ends in a DSP48E1's P register through its multiplier and post-adder (an accumulator kept in P).</summary>
    public TimingPath EndInDspAccumulator() => Add(Delays.DspMultiplyStage + Delays.DspAddStage, true, "DSP48E1(A→PREG)");

    /// <summary>Fmax in MHz of a finished path.</summary>
    public double FmaxMHz => 1000.0 / Nanoseconds;

    /// <summary>Ends at a DSP48E1 input register (AREG/BREG).</summary>
    public double ToDsp() => Add(Delays.DspInputSetup, true, "DSP48E1.A").Nanoseconds;

    public override string ToString() => string.Join(" → ", _steps);
}
