using TransformerFpga.Hardware;
using TransformerFpga.Quantization;

namespace TransformerFpga.Layers.Attention;

/// <summary>
/// s[h, i, j] = sat(round((Σ_c q[i, h·dh + c]·k[j, h·dh + c]) · M0 · 2^-n)) with the attention scale
/// folded in: M = S_q·S_k / (sqrt(dh)·S_s). Output rows are (head, query) pairs, columns are keys.
/// </summary>
public sealed class ScoresLayer : QuantizedLayer
{
    private ScoresLayer(string name, QuantScale output, int heads, Dyadic requant, QuantizedLayer q, QuantizedLayer k)
        : base(name, LayerKind.Scores, output, heads * q.Rows, q.Rows, q, k)
    {
        Heads = heads;
        Requant = requant;
        AccumulatorBits = q.Output.Bits + k.Output.Bits + IntegerMath.BitLength(HeadDim);
    }

    public int Heads { get; }
    public int Window => Sources[0].Rows;
    public int DModel => Sources[0].Columns;
    public int HeadDim => DModel / Heads;
    public Dyadic Requant { get; }
    public int AccumulatorBits { get; }

    public static ScoresLayer Quantize(string name, QuantizedLayer q, QuantizedLayer k, int heads, QuantScale output)
    {
        int dh = q.Columns / heads;
        return new(name, output, heads, Dyadic.For(q.Output.Scale * k.Output.Scale / (Math.Sqrt(dh) * output.Scale)), q, k);
    }

    public override LayerDatapath Datapath => new ScoresHardware(this);

    public override Engine.EngineJob EngineJob(int lanes, bool transposedOutput) => ScoresHardware.EngineJob(this, lanes);

    public override void Simulate(SimulationWorkspace workspace)
    {
        var q = workspace.Of(Sources[0]);
        var k = workspace.Of(Sources[1]);
        var s = workspace.Of(this);
        int w = Window, d = DModel, dh = HeadDim;
        bool narrow = AccumulatorBits <= 31;
        for (int h = 0; h < Heads; h++)
            for (int i = 0; i < w; i++)
            {
                var query = q.AsSpan(i * d + h * dh, dh);
                for (int j = 0; j < w; j++)
                {
                    var key = k.AsSpan(j * d + h * dh, dh);
                    long sum = narrow ? IntegerMath.DotInt32(query, key) : IntegerMath.DotInt64(query, key);
                    s[(h * w + i) * w + j] = IntegerMath.Saturate(IntegerMath.RoundShift(sum * Requant.Multiplier, Requant.Shift), Output.Bits);
                }
            }
    }
}
