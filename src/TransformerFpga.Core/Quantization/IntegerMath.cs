using System.Numerics;
using System.Runtime.InteropServices;

namespace TransformerFpga.Quantization;

/// <summary>The integer primitives shared by the simulator and mirrored by the VHDL templates.</summary>
public static class IntegerMath
{
    /// <summary>p · 2^-n rounded half away from zero (the requantizer's rounding).</summary>
    public static long RoundShift(long p, int n)
    {
        if (n == 0) return p;
        long half = 1L << (n - 1);
        return p >= 0 ? (p + half) >> n : -((-p + half) >> n);
    }

    public static long RoundShift(Int128 p, int n)
    {
        if (n == 0) return (long)p;
        Int128 half = Int128.One << (n - 1);
        return (long)(p >= 0 ? (p + half) >> n : -((-p + half) >> n));
    }

    public static int Saturate(long value, int bits)
    {
        long max = (1L << (bits - 1)) - 1, min = -(1L << (bits - 1));
        return (int)(value > max ? max : value < min ? min : value);
    }

    /// <summary>Round half away from zero, for deriving integer constants at build time.</summary>
    public static long RoundHalfAway(double x) => (long)Math.Round(x, MidpointRounding.AwayFromZero);

    /// <summary>floor(sqrt(v)) for v ≥ 0, exact.</summary>
    public static long FloorSqrt(long v)
    {
        if (v < 0) throw new ArgumentOutOfRangeException(nameof(v));
        long r = (long)Math.Sqrt(v);
        while (r * r > v) r--;
        while ((r + 1) * (r + 1) <= v) r++;
        return r;
    }

    /// <summary>Number of bits needed to hold v ≥ 0 as unsigned (0 → 0).</summary>
    public static int BitLength(long v) => v <= 0 ? 0 : 64 - BitOperations.LeadingZeroCount((ulong)v);

    /// <summary>Signed width that holds every value in [-bound, bound].</summary>
    public static int SignedBits(long bound) => BitLength(bound) + 1;

    /// <summary>Σ a[i]·b[i] in 32-bit lanes; callers guarantee the sum fits in 31 bits.</summary>
    public static int DotInt32(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        int n = a.Length, i = 0;
        int sum = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<int>.Count)
        {
            var va = MemoryMarshal.Cast<int, Vector<int>>(a);
            var vb = MemoryMarshal.Cast<int, Vector<int>>(b);
            var acc = Vector<int>.Zero;
            for (int v = 0; v < va.Length; v++) acc += va[v] * vb[v];
            sum = Vector.Sum(acc);
            i = va.Length * Vector<int>.Count;
        }
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>Σ a[i]·b[i] exactly in 64 bits.</summary>
    public static long DotInt64(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        long sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (long)a[i] * b[i];
        return sum;
    }
}

/// <summary>
/// A per-tensor quantization with zero point 0: q = clamp(round(x / Scale), Min, Max). Signed (the default):
/// Min = -2^(b-1), Max = 2^(b-1)-1. <paramref name="Unsigned"/>: Min = 0, Max = 2^b-1, the b-bit pattern of a
/// value that is never negative (the softmax probability); buffers and ports hold that pattern in b bits, and a
/// signed datapath that reads it zero-extends it to <see cref="SignedBits"/> = b + 1.
/// </summary>
public readonly record struct QuantScale(double Scale, int Bits, bool Unsigned = false)
{
    public int Max => Unsigned ? (1 << Bits) - 1 : (1 << (Bits - 1)) - 1;
    public int Min => Unsigned ? 0 : -(1 << (Bits - 1));

    /// <summary>Width of the value as a signed operand: Bits, or Bits + 1 for an unsigned one (a leading '0').</summary>
    public int SignedBits => Unsigned ? Bits + 1 : Bits;

    /// <summary>The largest magnitude a value can have: -Min, or Max when unsigned.</summary>
    public long MaxMagnitude => Math.Max(Max, -(long)Min);

    public int Quantize(double x) => (int)Math.Clamp(IntegerMath.RoundHalfAway(x / Scale), Min, Max);

    public double Dequantize(long q) => q * Scale;

    /// <summary>The scale that maps ±maxAbs onto ±(2^(b-1)-1).</summary>
    public static QuantScale ForRange(double maxAbs, int bits) =>
        new(maxAbs > 0 && double.IsFinite(maxAbs) ? maxAbs / ((1 << (bits - 1)) - 1) : 1.0, bits);
}

/// <summary>
/// Real multipliers as integers M0[i] with one shared right shift n: M[i] ≈ M0[i] · 2^-n.
/// n is the largest shift that keeps every |M0| below 2^(mantissaBits-1), so M0 is a signed
/// mantissaBits-wide constant.
/// </summary>
public sealed record Dyadic(long[] Multipliers, int Shift)
{
    public const int DefaultMantissaBits = 16;
    public const int MaxShift = 48;

    public long Multiplier => Multipliers[0];

    /// <param name="maxShift">Caps n, e.g. so that offsets pre-shifted by n stay inside 64 bits.</param>
    public static Dyadic For(ReadOnlySpan<double> reals, int mantissaBits = DefaultMantissaBits, int maxShift = MaxShift)
    {
        double max = 0;
        foreach (double r in reals) max = Math.Max(max, Math.Abs(r));
        long limit = (1L << (mantissaBits - 1)) - 1;
        int shift = 0;
        if (max > 0)
            while (shift < Math.Min(maxShift, MaxShift) && IntegerMath.RoundHalfAway(max * Math.Pow(2, shift + 1)) <= limit) shift++;
        var m = new long[reals.Length];
        for (int i = 0; i < m.Length; i++)
            m[i] = Math.Clamp(IntegerMath.RoundHalfAway(reals[i] * Math.Pow(2, shift)), -limit, limit);
        return new Dyadic(m, shift);
    }

    public static Dyadic For(double real, int mantissaBits = DefaultMantissaBits) => For([real], mantissaBits);

    /// <summary>The largest shift n for which |offset|·2^n (plus headroom for products and rounding) fits in 64 bits.</summary>
    public static int ShiftKeepingOffsetsIn64Bits(IEnumerable<double> offsets, int extraShift = 0)
    {
        double max = offsets.Select(Math.Abs).DefaultIfEmpty(0).Max();
        int magnitude = max < 1 ? 0 : (int)Math.Ceiling(Math.Log2(max + 1));
        return Math.Max(0, 60 - extraShift - magnitude);
    }
}
