using TransformerFpga.Hardware;
using TransformerFpga.Model;
using TransformerFpga.Quantization;

namespace TransformerFpga.Layers.Norm;

/// <summary>
/// Integer layer norm over each row of d channels, without any division by d:
///   D_c = d·x_c − Σx,   r = max(1, floor(sqrt(Σ_c D_c² + E))),   E = round(d³·eps / S_in²),
///   so D_c/r = (x_c − μ)/(σ·sqrt(d));   R = floor(2^K / r),   u_c = round(D_c·R · 2^-(K−16)),
///   y_c = sat(round((u_c·G[c] + B[c]) · 2^-n))  with G[c] = γ_c·sqrt(d)/S_out·2^(n-16), B[c] = β_c/S_out·2^n.
/// K = bits(r_max) + 16 keeps 16 significant bits in R at the largest r.
/// </summary>
public sealed class LayerNormLayer : QuantizedLayer
{
    public const int NormalizedFractionBits = 16;

    private LayerNormLayer(string name, QuantScale output, long epsilonTerm, int reciprocalBits, Dyadic gain, long[] offset, QuantizedLayer source)
        : base(name, LayerKind.LayerNorm, output, source.Rows, source.Columns, source)
    {
        EpsilonTerm = epsilonTerm;
        ReciprocalBits = reciprocalBits;
        Gain = gain;
        Offset = offset;
    }

    /// <summary>The gains are 16-bit constants whatever the plan says (see Quantize).</summary>
    public override int WeightBits => Dyadic.DefaultMantissaBits;
    public long EpsilonTerm { get; }
    /// <summary>K in R = floor(2^K / r).</summary>
    public int ReciprocalBits { get; }
    public Dyadic Gain { get; }
    public long[] Offset { get; }

    public static LayerNormLayer Quantize(string name, NormWeights n, QuantizedLayer source, QuantScale output)
    {
        int d = source.Columns;
        double inputScale = source.Output.Scale;
        long epsilonTerm = (long)Math.Min(IntegerMath.RoundHalfAway((double)d * d * d * 1e-5 / (inputScale * inputScale)), 1L << 60);
        long maxD = (long)d << source.Output.Bits;
        long maxSquares = Math.Min((long)d * maxD * maxD, (1L << 61) - epsilonTerm);
        long maxRoot = IntegerMath.FloorSqrt(maxSquares + epsilonTerm);
        int reciprocalBits = IntegerMath.BitLength(maxRoot) + NormalizedFractionBits;
        // 16-bit gain mantissas for the same reason as BatchNormLayer.
        // u carries 16 fractional bits, so the gain is taken at 2^-16: the total shift n then stays
        // ≥ 0 even when γ·sqrt(d)/S_out exceeds the 16-bit mantissa (wide outputs have tiny scales).
        var gain = Dyadic.For(n.Weight.Select(g => g * Math.Sqrt(d) / output.Scale * Math.Pow(2, -NormalizedFractionBits)).ToArray(),
            maxShift: Dyadic.ShiftKeepingOffsetsIn64Bits(n.Bias.Select(b => b / output.Scale)));
        var offset = n.Bias.Select(b => IntegerMath.RoundHalfAway(b / output.Scale * Math.Pow(2, gain.Shift))).ToArray();
        return new LayerNormLayer(name, output, epsilonTerm, reciprocalBits, gain, offset, source);
    }

    public override LayerDatapath Datapath => new LayerNormHardware(this);

    public override void Simulate(SimulationWorkspace workspace)
    {
        var x = workspace.Of(Sources[0]);
        var y = workspace.Of(this);
        int d = Columns;
        var centered = workspace.ScratchOf(d);
        for (int r = 0; r < Rows; r++)
        {
            int offset = r * d;
            long sum = 0;
            for (int c = 0; c < d; c++) sum += x[offset + c];
            long squares = 0;
            for (int c = 0; c < d; c++)
            {
                long centeredValue = (long)d * x[offset + c] - sum;
                centered[c] = (int)centeredValue;
                squares += centeredValue * centeredValue;
            }
            long root = Math.Max(1, IntegerMath.FloorSqrt(squares + EpsilonTerm));
            long reciprocal = (1L << ReciprocalBits) / root;
            for (int c = 0; c < d; c++)
            {
                long normalized = IntegerMath.RoundShift((Int128)centered[c] * reciprocal, ReciprocalBits - NormalizedFractionBits);
                y[offset + c] = IntegerMath.Saturate(IntegerMath.RoundShift(normalized * Gain.Multipliers[c] + Offset[c], Gain.Shift), Output.Bits);
            }
        }
    }
}
