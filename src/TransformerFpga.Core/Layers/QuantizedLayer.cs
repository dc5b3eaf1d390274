using TransformerFpga.Hardware;
using TransformerFpga.Quantization;

namespace TransformerFpga.Layers;

public enum LayerKind { Linear, PositionalEncoding, Scores, Softmax, Context, ResidualAdd, BatchNorm, LayerNorm, Relu, AveragePool }

/// <summary>
/// One layer of the integer-only model. Each kind lives in its own folder with its quantization
/// (a static Quantize factory), its bit-exact simulation and its hardware (<see cref="Datapath"/>).
/// The output is a [Rows × Columns] tensor of <see cref="QuantScale.Bits"/>-bit integers, signed unless
/// <see cref="QuantScale.Unsigned"/> (the softmax's probabilities).
/// </summary>
public abstract class QuantizedLayer
{
    protected QuantizedLayer(string name, LayerKind kind, QuantScale output, int rows, int columns, params QuantizedLayer[] sources)
    {
        Name = name;
        Kind = kind;
        Output = output;
        Rows = rows;
        Columns = columns;
        Sources = sources;
    }

    public string Name { get; }
    public LayerKind Kind { get; }
    public QuantScale Output { get; }
    public int Rows { get; }
    public int Columns { get; }
    public IReadOnlyList<QuantizedLayer> Sources { get; }
    /// <summary>Position in the model's layer list; buffers are indexed by it.</summary>
    public int Index { get; internal set; }
    /// <summary>Bits of the layer's constant multipliers/weights; 0 for layers without weights.</summary>
    public virtual int WeightBits => 0;
    public int ActivationBits => Output.Bits;
    public int Elements => Rows * Columns;
    /// <summary>The layer whose buffer holds this layer's output (itself unless fused into its producer).</summary>
    public virtual QuantizedLayer BufferOwner => this;

    /// <summary>The layer's own datapath in the per-layer architecture; null for a layer fused into its producer.</summary>
    public abstract LayerDatapath? Datapath { get; }

    /// <summary>
    /// The layer's work on the shared MAC engine (FpgaArchitecture=Engine), whose lanes split the reductions into
    /// words; null for kinds that keep a datapath of their own there.
    /// </summary>
    /// <param name="transposedOutput">Write the output column-major (the V of attention, which the context reads by column).</param>
    public virtual Engine.EngineJob? EngineJob(int lanes, bool transposedOutput) => null;

    /// <summary>
    /// The layer as a stage of the engine's write-back, applied to <paramref name="input"/>'s outputs as the engine
    /// writes them (FpgaArchitecture=Engine); null for kinds that are not element-wise or for that source.
    /// </summary>
    public virtual Engine.EngineElementOp? EngineWriteBack(QuantizedLayer input) => null;

    /// <summary>The source whose buffer the layer's engine job reads column-major (the engine must write it so), or null.</summary>
    public virtual QuantizedLayer? EngineTransposedSource => null;

    /// <summary>Computes this layer's buffer from its sources' buffers, integers only.</summary>
    public abstract void Simulate(SimulationWorkspace workspace);
}

/// <summary>The buffers of one inference; reused across windows to avoid allocation.</summary>
public sealed class SimulationWorkspace
{
    public SimulationWorkspace(IReadOnlyList<QuantizedLayer> layers, int inputElements)
    {
        Input = new int[inputElements];
        Buffers = new int[layers.Count][];
        foreach (var l in layers) Buffers[l.Index] = l.BufferOwner == l ? new int[l.Elements] : Array.Empty<int>();
    }

    public int[] Input { get; }
    public int[][] Buffers { get; }
    public int[] Scratch = Array.Empty<int>();

    public int[] Of(QuantizedLayer layer) => Buffers[layer.BufferOwner.Index];

    public int[] ScratchOf(int length)
    {
        if (Scratch.Length < length) Scratch = new int[length];
        return Scratch;
    }
}
