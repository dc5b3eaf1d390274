using TransformerFpga.Hardware;
using TransformerFpga.Quantization;

namespace TransformerFpga.Layers.Pooling;

/// <summary>y[c] = sat(round((Σ_t x[t, c]) · M0 · 2^-n)) with M = S_in / (window · S_out): the 1/window is folded into M0.</summary>
public sealed class AveragePoolLayer : QuantizedLayer
{
    private AveragePoolLayer(string name, QuantScale output, Dyadic requant, QuantizedLayer source)
        : base(name, LayerKind.AveragePool, output, 1, source.Columns, source) => Requant = requant;

    public Dyadic Requant { get; }
    public int Window => Sources[0].Rows;

    public static AveragePoolLayer Quantize(string name, QuantizedLayer source, QuantScale output) =>
        new(name, output, Dyadic.For(source.Output.Scale / (source.Rows * output.Scale)), source);

    public override LayerDatapath Datapath => new PoolingHardware(this);

    /// <summary>The window's sums as a MAC job: channel c is row c of the input stored column-major (its window padded to whole words), times a word of ones.</summary>
    public override QuantizedLayer? EngineTransposedSource => Sources[0];

    public override Engine.EngineJob? EngineJob(int lanes, bool transposedOutput)
    {
        if (transposedOutput) return null;
        int words = Engine.EngineJob.PaddedWords(Window, lanes);
        int inputBits = Sources[0].Output.Bits;
        return new Engine.EngineJob(this, 1, Columns, 1, words,
            Sources[0].BufferOwner, 0, words,
            null, 0, words, Enumerable.Repeat(1, words * lanes).ToArray(), 2,
            0, 1, 1,
            null, Requant.Multiplier, Requant.Shift, false, inputBits + IntegerMath.BitLength(Window) + 1);
    }

    public override void Simulate(SimulationWorkspace workspace)
    {
        var x = workspace.Of(Sources[0]);
        var y = workspace.Of(this);
        int d = Columns;
        for (int c = 0; c < d; c++)
        {
            long sum = 0;
            for (int t = 0; t < Window; t++) sum += x[t * d + c];
            y[c] = IntegerMath.Saturate(IntegerMath.RoundShift(sum * Requant.Multiplier, Requant.Shift), Output.Bits);
        }
    }
}
