using TransformerFpga.Hardware;
using TransformerFpga.Model;
using TransformerFpga.Quantization;

namespace TransformerFpga.Layers.Norm;

/// <summary>
/// Eval-mode batch norm folded into a per-channel affine y = x·g + h (g = weight/sqrt(var+eps),
/// h = bias - mean·g), in integers: y[t, c] = sat(round((x[t, c]·M0[c] + B[c]) · 2^-n)).
/// M0 is signed WeightBits wide; B is h at the output scale pre-shifted by n.
/// </summary>
public sealed class BatchNormLayer : QuantizedLayer
{
    private BatchNormLayer(string name, QuantScale output, Dyadic scale, long[] offset, QuantizedLayer source)
        : base(name, LayerKind.BatchNorm, output, source.Rows, source.Columns, source)
    {
        Scale = scale;
        Offset = offset;
    }

    /// <summary>The gains are 16-bit constants whatever the plan says (see Quantize).</summary>
    public override int WeightBits => Dyadic.DefaultMantissaBits;
    public Dyadic Scale { get; }
    public long[] Offset { get; }

    public static BatchNormLayer Quantize(string name, NormWeights n, QuantizedLayer source, QuantScale output)
    {
        int d = n.Weight.Length;
        var gain = new double[d];
        var shift = new double[d];
        for (int c = 0; c < d; c++)
        {
            double g = n.Weight[c] / Math.Sqrt(n.RunningVar![c] + 1e-5);
            gain[c] = g * source.Output.Scale / output.Scale;
            shift[c] = (n.Bias[c] - n.RunningMean![c] * g) / output.Scale;
        }
        // The per-channel gains share one shift, so a channel with a small gain keeps few significant
        // bits; a 16-bit mantissa keeps every channel accurate (measured: 8-bit gains alone cost ~20 %
        // test MSE on the sample). WeightBits therefore does not narrow the norms.
        var scale = Dyadic.For(gain, maxShift: Dyadic.ShiftKeepingOffsetsIn64Bits(shift));
        var offset = shift.Select(h => IntegerMath.RoundHalfAway(h * Math.Pow(2, scale.Shift))).ToArray();
        return new BatchNormLayer(name, output, scale, offset, source);
    }

    public override LayerDatapath Datapath => new BatchNormHardware(this);

    /// <summary>x·M0[c] + B[c] for channel c = the output n.</summary>
    public override Engine.EngineElementOp? EngineWriteBack(QuantizedLayer input) => input == Sources[0]
        ? new Engine.EngineElementOp(this, Scale.Multipliers.ToArray(), 1, Offset, 0, 1, null, 0, Scale.Shift)
        : null;

    public override void Simulate(SimulationWorkspace workspace)
    {
        var x = workspace.Of(Sources[0]);
        var y = workspace.Of(this);
        int d = Columns;
        for (int r = 0; r < Rows; r++)
            for (int c = 0; c < d; c++)
                y[r * d + c] = IntegerMath.Saturate(IntegerMath.RoundShift(x[r * d + c] * Scale.Multipliers[c] + Offset[c], Scale.Shift), Output.Bits);
    }
}
