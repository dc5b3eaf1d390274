using TransformerFpga.Hardware;
using TransformerFpga.Quantization;

namespace TransformerFpga.Layers.Attention;

/// <summary>
/// c[i, h·dh + c] = sat(round((Σ_j p[h, i, j]·v[j, h·dh + c]) · M0 · 2^-n)), M = S_p·S_v / S_out; p is the softmax's
/// unsigned probability (0..2^pb - 1), v signed.
/// </summary>
public sealed class ContextLayer : QuantizedLayer
{
    private ContextLayer(string name, QuantScale output, int heads, Dyadic requant, QuantizedLayer probabilities, QuantizedLayer v)
        : base(name, LayerKind.Context, output, v.Rows, v.Columns, probabilities, v)
    {
        Heads = heads;
        Requant = requant;
        // |p·v| < 2^pb · 2^(vb-1) for the unsigned probability, so Window of them fit this many signed bits.
        AccumulatorBits = probabilities.Output.Bits + v.Output.Bits + IntegerMath.BitLength(v.Rows);
    }

    public int Heads { get; }
    public Dyadic Requant { get; }
    public int Window => Sources[1].Rows;
    public int HeadDim => Columns / Heads;
    public int AccumulatorBits { get; }

    public static ContextLayer Quantize(string name, QuantizedLayer probabilities, QuantizedLayer v, int heads, QuantScale output) =>
        new(name, output, heads, Dyadic.For(probabilities.Output.Scale * v.Output.Scale / output.Scale), probabilities, v);

    /// <summary>V, read by column.</summary>
    public override QuantizedLayer? EngineTransposedSource => Sources[1];

    public override LayerDatapath Datapath => new ContextHardware(this);

    public override Engine.EngineJob EngineJob(int lanes, bool transposedOutput) => ContextHardware.EngineJob(this, lanes);

    public override void Simulate(SimulationWorkspace workspace)
    {
        var p = workspace.Of(Sources[0]);
        var v = workspace.Of(Sources[1]);
        var y = workspace.Of(this);
        int w = Window, d = Columns, dh = HeadDim;
        // V transposed per column so that each output is one contiguous dot product.
        var column = workspace.ScratchOf(w);
        bool narrow = AccumulatorBits <= 31;
        for (int h = 0; h < Heads; h++)
            for (int c = 0; c < dh; c++)
            {
                int channel = h * dh + c;
                for (int j = 0; j < w; j++) column[j] = v[j * d + channel];
                var keys = column.AsSpan(0, w);
                for (int i = 0; i < w; i++)
                {
                    var row = p.AsSpan((h * w + i) * w, w);
                    long sum = narrow ? IntegerMath.DotInt32(row, keys) : IntegerMath.DotInt64(row, keys);
                    y[i * d + channel] = IntegerMath.Saturate(IntegerMath.RoundShift(sum * Requant.Multiplier, Requant.Shift), Output.Bits);
                }
            }
    }
}
