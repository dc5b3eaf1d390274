using TransformerFpga.Hardware;
using TransformerFpga.Quantization;

namespace TransformerFpga.Layers.Relu;

/// <summary>
/// ReLU is fused into the producing linear layer's output stage (max(0, y) after saturation), so it
/// has no buffer, no cycles and no resources of its own; it shares the producer's precision.
/// </summary>
public sealed class ReluLayer : QuantizedLayer
{
    public ReluLayer(string name, QuantizedLayer producer)
        : base(name, LayerKind.Relu, producer.Output, producer.Rows, producer.Columns, producer) { }

    public override QuantizedLayer BufferOwner => Sources[0];

    public override LayerDatapath? Datapath => null;

    public override void Simulate(SimulationWorkspace workspace) { }
}
