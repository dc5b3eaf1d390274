using TransformerFpga.Hardware;
using TransformerFpga.Quantization;

namespace TransformerFpga.Layers.Residual;

/// <summary>y = sat(round((a·Ma + b·Mb) · 2^-n)): both operands rescaled to the output with one shared shift.</summary>
public sealed class ResidualAddLayer : QuantizedLayer
{
    private ResidualAddLayer(string name, QuantScale output, Dyadic requant, QuantizedLayer a, QuantizedLayer b)
        : base(name, LayerKind.ResidualAdd, output, a.Rows, a.Columns, a, b) => Requant = requant;

    /// <summary>Multipliers[0] for the first source, [1] for the second.</summary>
    public Dyadic Requant { get; }

    public static ResidualAddLayer Quantize(string name, QuantizedLayer a, QuantizedLayer b, QuantScale output) =>
        new(name, output, Dyadic.For([a.Output.Scale / output.Scale, b.Output.Scale / output.Scale]), a, b);

    public override LayerDatapath Datapath => new ResidualHardware(this);

    /// <summary>The streamed source times its multiplier plus the other source's element times its own.</summary>
    public override Engine.EngineElementOp? EngineWriteBack(QuantizedLayer input)
    {
        int k = input == Sources[1] ? 1 : input == Sources[0] ? 0 : -1;
        if (k < 0 || Sources[0] == Sources[1]) return null;
        return new Engine.EngineElementOp(this, [Requant.Multipliers[k]], 0, [0], 0, 0, Sources[1 - k], Requant.Multipliers[1 - k], Requant.Shift);
    }

    public override void Simulate(SimulationWorkspace workspace)
    {
        var a = workspace.Of(Sources[0]);
        var b = workspace.Of(Sources[1]);
        var y = workspace.Of(this);
        long ma = Requant.Multipliers[0], mb = Requant.Multipliers[1];
        for (int i = 0; i < y.Length; i++)
            y[i] = IntegerMath.Saturate(IntegerMath.RoundShift(a[i] * ma + b[i] * mb, Requant.Shift), Output.Bits);
    }
}
