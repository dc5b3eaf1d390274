using TransformerFpga.Hardware;
using TransformerFpga.Model;
using TransformerFpga.Quantization;

namespace TransformerFpga.Layers.Norm;

/// <summary>
/// Integer layer norm over each row of d channels, without any division by d:
///   D_c = d·x_c − Σx,   r = max(1, floor(sqrt(Σ_c D_c² + E))),   E = round(d³·eps / S_in²),
///   so D_c/r = (x_c − μ)/(σ·sqrt(d));   L = bits(r),   R = floor((2^(L+16) − 1) / r),   u_c = round(D_c·R · 2^-L),
///   y_c = sat(round((u_c·G[c] + B[c]) · 2^-n))  with G[c] = γ_c·sqrt(d)/S_out·2^(n-16), B[c] = β_c/S_out·2^n.
/// R has 17 bits (2^16 ≤ R &lt; 2^17) whatever r is, so |D|·R is one DSP48E1 product in hardware once |D| is shifted
/// left by bits(r_max) − L (|D| ≤ r keeps it within bits(r_max) bits).
/// </summary>
public sealed class LayerNormLayer : QuantizedLayer
{
    public const int NormalizedFractionBits = 16;

    private LayerNormLayer(string name, QuantScale output, long epsilonTerm, Dyadic gain, long[] offset, QuantizedLayer source)
        : base(name, LayerKind.LayerNorm, output, source.Rows, source.Columns, source)
    {
        EpsilonTerm = epsilonTerm;
        Gain = gain;
        Offset = offset;
    }

    /// <summary>The gains are 16-bit constants whatever the plan says (see Quantize).</summary>
    public override int WeightBits => Dyadic.DefaultMantissaBits;
    public long EpsilonTerm { get; }
    public Dyadic Gain { get; }
    public long[] Offset { get; }

    public static LayerNormLayer Quantize(string name, NormWeights n, QuantizedLayer source, QuantScale output)
    {
        int d = source.Columns;
        double inputScale = source.Output.Scale;
        long epsilonTerm = (long)Math.Min(IntegerMath.RoundHalfAway((double)d * d * d * 1e-5 / (inputScale * inputScale)), 1L << 60);
        // 16-bit gain mantissas for the same reason as BatchNormLayer.
        // u carries 16 fractional bits, so the gain is taken at 2^-16: the total shift n then stays
        // ≥ 0 even when γ·sqrt(d)/S_out exceeds the 16-bit mantissa (wide outputs have tiny scales).
        var gain = Dyadic.For(n.Weight.Select(g => g * Math.Sqrt(d) / output.Scale * Math.Pow(2, -NormalizedFractionBits)).ToArray(),
            maxShift: Dyadic.ShiftKeepingOffsetsIn64Bits(n.Bias.Select(b => b / output.Scale)));
        var offset = n.Bias.Select(b => IntegerMath.RoundHalfAway(b / output.Scale * Math.Pow(2, gain.Shift))).ToArray();
        return new LayerNormLayer(name, output, epsilonTerm, gain, offset, source);
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
            int rootBits = IntegerMath.BitLength(root);
            long reciprocal = ((1L << (rootBits + NormalizedFractionBits)) - 1) / root;
            for (int c = 0; c < d; c++)
            {
                long normalized = IntegerMath.RoundShift((long)centered[c] * reciprocal, rootBits);
                y[offset + c] = IntegerMath.Saturate(IntegerMath.RoundShift(normalized * Gain.Multipliers[c] + Offset[c], Gain.Shift), Output.Bits);
            }
        }
    }
}
