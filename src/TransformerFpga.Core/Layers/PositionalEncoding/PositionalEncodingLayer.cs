using TransformerFpga.Hardware;
using TransformerFpga.Float;
using TransformerFpga.Quantization;

namespace TransformerFpga.Layers.PositionalEncoding;

/// <summary>
/// y[t, c] = sat(round((x[t, c]·M0 + P[t, c]) · 2^-n)) where P is the sinusoidal encoding at the
/// output scale, pre-shifted by n (a ROM in hardware).
/// </summary>
public sealed class PositionalEncodingLayer : QuantizedLayer
{
    private PositionalEncodingLayer(string name, QuantScale output, int window, int d, Dyadic requant, long[] table, QuantizedLayer source)
        : base(name, LayerKind.PositionalEncoding, output, window, d, source)
    {
        Requant = requant;
        Table = table;
    }

    public Dyadic Requant { get; }
    /// <summary>[t × d] offsets in units of 2^-n output steps.</summary>
    public long[] Table { get; }

    public static PositionalEncodingLayer Quantize(string name, QuantizedLayer source, QuantScale output, int window, int d)
    {
        var requant = Dyadic.For(source.Output.Scale / output.Scale);
        var pe = FloatTransformer.PositionalEncoding(window, d);
        double step = Math.Pow(2, requant.Shift) / output.Scale;
        var table = pe.Select(v => IntegerMath.RoundHalfAway(v * step)).ToArray();
        return new PositionalEncodingLayer(name, output, window, d, requant, table, source);
    }

    public override LayerDatapath Datapath => new PositionalEncodingHardware(this);

    /// <summary>x·M0 plus the table entry of the element.</summary>
    public override Engine.EngineElementOp? EngineWriteBack(QuantizedLayer input) => input == Sources[0]
        ? new Engine.EngineElementOp(this, [Requant.Multiplier], 0, Table, Columns, 1, null, 0, Requant.Shift)
        : null;

    public override void Simulate(SimulationWorkspace workspace)
    {
        var x = workspace.Of(Sources[0]);
        var y = workspace.Of(this);
        long m0 = Requant.Multiplier;
        for (int i = 0; i < y.Length; i++)
            y[i] = IntegerMath.Saturate(IntegerMath.RoundShift(x[i] * m0 + Table[i], Requant.Shift), Output.Bits);
    }
}
