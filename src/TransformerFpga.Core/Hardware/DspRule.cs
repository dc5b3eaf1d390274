namespace TransformerFpga.Hardware;

/// <summary>
/// How many DSP48E1 a product takes after the GHDL → Verilog → synth_xilinx route: GHDL writes a
/// signed product as an unsigned multiply of operands sign-extended to the result width (a positive
/// constant operand keeps only its significant bits), and Yosys splits it into 24 × 17-bit partial
/// products, dropping those that only reach bits above the result.
/// </summary>
public static class DspRule
{
    /// <summary>synth_xilinx leaves products narrower than this in LUTs.</summary>
    public const int MinimumProductBits = 9;

    /// <summary>A product of two signed non-constant operands of the given widths.</summary>
    public static int Signed(int aBits, int bBits) => Count(aBits + bBits, aBits + bBits, aBits + bBits);

    /// <summary>
    /// A product of two unsigned operands (the requantizer's magnitude × M0): GHDL keeps it unsigned, so
    /// only the significant bits count; a power-of-two constant is a shift.
    /// </summary>
    public static int Unsigned(int aBits, long constant)
    {
        if (constant <= 0 || (constant & (constant - 1)) == 0) return 0;
        int b = Quantization.IntegerMath.BitLength(constant);
        return Count(aBits, b, aBits + b);
    }

    /// <summary>A product of a signed operand with a constant.</summary>
    public static int ByConstant(int aBits, long constant, int constantBits)
    {
        int y = aBits + constantBits;
        if (constant == 0 || (constant > 0 && (constant & (constant - 1)) == 0)) return 0; // a shift
        int b = constant >= 0 ? Math.Max(1, Quantization.IntegerMath.BitLength(constant)) : y;
        return Count(y, b, y);
    }

    /// <summary>Partial products (24-bit chunks of the wider operand × 17-bit chunks of the other) below bit <paramref name="y"/>.</summary>
    public static int Count(int a, int b, int y)
    {
        if (y < MinimumProductBits) return 0; // small products stay in LUTs
        if (a < b) (a, b) = (b, a);
        int count = 0;
        for (int i = 0; i * 24 < a; i++)
            for (int j = 0; j * 17 < b; j++)
                if (i * 24 + j * 17 < y) count++;
        return count;
    }
}
