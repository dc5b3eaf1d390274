using TransformerFpga.Layers;

namespace TransformerFpga.Engine;

/// <summary>
/// One layer's work on the shared MAC engine (engine.vhd):
/// out[h, r, n] = relu?(sat(round((bias[n] + Σ_k a[h, r, k]·b[h, n, k])·M0·2^-Shift))) for h &lt; Heads, r &lt; Rows,
/// n &lt; Outputs and k &lt; Words·lanes. Operands are read a word of lanes consecutive k at a time: a from
/// <see cref="ASource"/>'s buffer at word h·AHead + r·ARow + j, b from the job's weight ROM words
/// (<see cref="Weights"/>, n·Words + j) or from <see cref="BSource"/>'s buffer at word h·BHead + n·BOutput + j.
/// Output (h, r, n) is element h·EHead + r·ERow + n·EOutput of the layer's buffer.
/// </summary>
/// <param name="Weights">Row-major [Outputs][Words·lanes] weights of a linear layer; null when b is a buffer.</param>
/// <param name="Bias">Bias per output n, or null (the sum starts from 0).</param>
/// <param name="AccumulatorBits">Signed width that holds every partial and final sum of this job.</param>
/// <param name="ASource">The layer whose buffer a is read from; null for the model's input window.</param>
/// <param name="InputBits">Bits of the input window's elements (when <see cref="ASource"/> is null).</param>
public sealed record EngineJob(
    QuantizedLayer Layer, int Heads, int Rows, int Outputs, int Words,
    QuantizedLayer? ASource, int AHead, int ARow,
    QuantizedLayer? BSource, int BHead, int BOutput, int[]? Weights, int WeightBits,
    int EHead, int ERow, int EOutput,
    long[]? Bias, long M0, int Shift, bool Relu, int AccumulatorBits, int InputBits = 0)
{
    /// <summary>The element-wise layers the job's write-back runs on its outputs, in order (see <see cref="EngineElementOp"/>).</summary>
    public IReadOnlyList<EngineElementOp> WriteBack { get; init; } = [];

    /// <summary>The memory of the job's weights (<see cref="Weights"/>): Auto leaves it to synthesis' cost rule.</summary>
    public Pipeline.BufferResource WeightMemory { get; init; } = Pipeline.BufferResource.Auto;

    /// <summary>The layer whose buffer the job writes: its own, or the last write-back layer's.</summary>
    public QuantizedLayer Writes => WriteBack.Count == 0 ? Layer : WriteBack[^1].Layer;

    /// <summary>Reads the job issues: one per cycle.</summary>
    public long Issues => (long)Heads * Rows * Outputs * Words;

    /// <summary>
    /// Bits of an a element as the signed lane operand: the source's activations, one bit more when they are unsigned
    /// (the context's probabilities), which the top zero-extends into the lane.
    /// </summary>
    public int ABits => ASource?.Output.SignedBits ?? InputBits;

    /// <summary>Bits of a b element as a signed lane operand: the weights, or the second source's activations.</summary>
    public int BBits => BSource?.Output.SignedBits ?? WeightBits;

    /// <summary>Output bits (the requantizer's saturation range).</summary>
    public int OutputBits => Layer.Output.Bits;

    /// <summary>Bits of the widest value the job writes or passes between its write-back stages.</summary>
    public int WrittenBits => WriteBack.Select(op => op.OutputBits).Append(OutputBits).Max();

    /// <summary>Words of <paramref name="lanes"/> elements that hold a row of <paramref name="length"/>, the last one padded with zeros.</summary>
    public static int PaddedWords(long length, int lanes) => (int)((length + lanes - 1) / lanes);

    /// <summary>Throws when the engine's lanes do not split the job's dimension into whole words.</summary>
    internal static int WordsOf(QuantizedLayer layer, long length, string what, int lanes)
    {
        if (length % lanes != 0)
            throw new NotSupportedException($"layer '{layer.Name}' has {what} of {length}, which {lanes} engine lanes do not divide");
        return (int)(length / lanes);
    }
}
