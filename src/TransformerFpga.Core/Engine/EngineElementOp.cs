using TransformerFpga.Layers;

namespace TransformerFpga.Engine;

/// <summary>
/// An element-wise layer the engine runs in a job's write-back (engine.vhd), on each output x[r, n] of the job, or of the
/// write-back stage before it, in order: y[r, n] = sat(round((x·Gains[n·GainStep] + s·ResidualGain +
/// Offsets[r·OffsetRow + n·OffsetStep]) · 2^-Shift)), s being element r·Columns + n of <see cref="Residual"/>'s buffer
/// (0 without one). The layer then needs no datapath, no pass over a buffer and no buffer of its input.
/// </summary>
/// <param name="Layer">The element-wise layer; its output bits are the saturation range.</param>
/// <param name="Gains">The multipliers of x (one, or one per output n).</param>
/// <param name="Offsets">The constants added (one, one per n, or one per element).</param>
/// <param name="Residual">The layer whose buffer holds the second operand, or null.</param>
/// <param name="ResidualGain">The (non-negative) multiplier of the second operand.</param>
public sealed record EngineElementOp(QuantizedLayer Layer, long[] Gains, int GainStep, long[] Offsets, int OffsetRow, int OffsetStep,
    QuantizedLayer? Residual, long ResidualGain, int Shift)
{
    public int OutputBits => Layer.Output.Bits;
}
