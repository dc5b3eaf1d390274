using TransformerFpga.Hardware;
using TransformerFpga.Model;
using TransformerFpga.Quantization;

namespace TransformerFpga.Layers.Linear;

/// <summary>
/// y[r, o] = sat(round((B[o] + Σ_i W[o, i]·x[r, i]) · M0 · 2^-n)), optionally max(0, ·) when a ReLU is fused.
/// Used for the embedding, Q/K/V/out, FFN and head layers. Weights are symmetric per-tensor;
/// the bias is folded into the accumulator at the input·weight scale.
/// </summary>
public sealed class LinearLayer : QuantizedLayer
{
    private LinearLayer(string name, QuantScale output, int rows, int inFeatures, int outFeatures, int weightBits,
        int inputBits, int[] weights, long[] bias, Dyadic requant, bool relu, QuantScale weightScale, QuantizedLayer? source)
        : base(name, LayerKind.Linear, output, rows, outFeatures, source is null ? [] : [source])
    {
        In = inFeatures;
        Out = outFeatures;
        _weightBits = weightBits;
        InputBits = inputBits;
        Weights = weights;
        Bias = bias;
        Requant = requant;
        Relu = relu;
        WeightScale = weightScale;
        AccumulatorBits = weightBits + inputBits + IntegerMath.BitLength(inFeatures) + 1;
    }

    private readonly int _weightBits;
    public override int WeightBits => _weightBits;
    public int In { get; }
    public int Out { get; }
    public int InputBits { get; }
    /// <summary>[Out × In] row-major, signed WeightBits.</summary>
    public int[] Weights { get; }
    public long[] Bias { get; }
    public Dyadic Requant { get; }
    public bool Relu { get; }
    public QuantScale WeightScale { get; }
    /// <summary>Signed width that cannot overflow: |Σ| ≤ In·2^(wb-1)·2^(ab-1) plus an equal bias bound.</summary>
    public int AccumulatorBits { get; }

    /// <param name="source">The producing layer, or null when the input is the model input.</param>
    /// <param name="secondMoment">Σ x·xᵀ of the layer's float inputs (<see cref="Integer.WeightRounding"/>), or null to round each weight to nearest.</param>
    public static LinearLayer Quantize(string name, LinearWeights w, QuantizedLayer? source, QuantScale input, QuantScale output,
        int weightBits, int rows, bool relu, double[]? secondMoment = null)
    {
        double maxWeight = 0;
        foreach (float v in w.W) maxWeight = Math.Max(maxWeight, Math.Abs(v));
        var weightScale = QuantScale.ForRange(maxWeight, weightBits);
        var weights = new int[w.W.Length];
        if (secondMoment is not null && weightBits >= Integer.WeightRounding.MinWeightBits) weights = Integer.WeightRounding.Round(w.W, w.Out, w.In, weightScale, secondMoment);
        else for (int i = 0; i < weights.Length; i++) weights[i] = weightScale.Quantize(w.W[i]);
        double accumulatorScale = input.Scale * weightScale.Scale;
        long biasBound = (long)w.In << (weightBits + input.Bits - 2);
        var bias = new long[w.Out];
        for (int o = 0; o < bias.Length; o++)
            bias[o] = Math.Clamp(IntegerMath.RoundHalfAway(w.B[o] / accumulatorScale), -biasBound, biasBound);
        var requant = Dyadic.For(accumulatorScale / output.Scale);
        return new LinearLayer(name, output, rows, w.In, w.Out, weightBits, input.Bits, weights, bias, requant, relu, weightScale, source);
    }

    /// <summary>Adds <paramref name="delta"/> to output <paramref name="o"/>'s bias (bias correction), within the accumulator's headroom.</summary>
    internal void CorrectBias(int o, long delta)
    {
        long bound = (long)In << (WeightBits + InputBits - 2);
        Bias[o] = Math.Clamp(Bias[o] + delta, -bound, bound);
    }

    public override LayerDatapath Datapath => new LinearHardware(this);

    public override Engine.EngineJob EngineJob(int lanes, bool transposedOutput) => LinearHardware.EngineJob(this, lanes, transposedOutput);

    public override void Simulate(SimulationWorkspace workspace)
    {
        ReadOnlySpan<int> x = Sources.Count == 0 ? workspace.Input : workspace.Of(Sources[0]);
        Span<int> y = workspace.Of(this);
        bool narrow = AccumulatorBits <= 31;
        long m0 = Requant.Multiplier;
        int shift = Requant.Shift, bits = Output.Bits;
        for (int r = 0; r < Rows; r++)
        {
            var row = x.Slice(r * In, In);
            for (int o = 0; o < Out; o++)
            {
                var weights = Weights.AsSpan(o * In, In);
                long accumulator = Bias[o] + (narrow ? IntegerMath.DotInt32(weights, row) : IntegerMath.DotInt64(weights, row));
                int value = IntegerMath.Saturate(IntegerMath.RoundShift(accumulator * m0, shift), bits);
                y[r * Out + o] = Relu && value < 0 ? 0 : value;
            }
        }
    }
}
