using TransformerFpga.Diagnostics;
using TransformerFpga.Integer;
using TransformerFpga.Layers;
using TransformerFpga.Layers.Attention;
using TransformerFpga.Layers.Linear;
using TransformerFpga.Layers.Norm;
using TransformerFpga.Layers.Pooling;
using TransformerFpga.Layers.PositionalEncoding;
using TransformerFpga.Layers.Residual;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Hdl;

/// <summary>
/// The latency model of the generated hardware, exact to the clock edge (the GHDL testbench counts
/// the same number), and the per-layer hardware rules (lanes, buffer memory).
/// </summary>
public static class HardwareModel
{
    /// <summary>The sequencer spends two clocks between a layer's done and the next layer's start sample (and on the final done).</summary>
    public const int HandoffCycles = 2;

    /// <summary>Buffers of at least this many bits become block RAM when the plan says Auto.</summary>
    public const int AutoBlockRamBits = 1024;

    /// <summary>Layers with hardware of their own (a fused ReLU has none).</summary>
    public static bool HasHardware(QuantizedLayer layer) => layer.BufferOwner == layer;

    /// <summary>MAC lanes the hardware uses: the plan's lanes for linear layers, 1 for every other kind.</summary>
    public static int Lanes(QuantizedLayer layer, LayerChoice choice) => layer is LinearLayer ? choice.Lanes : 1;

    /// <summary>Cycles of the layer alone: from the edge that samples its start to the edge after which its done is high.</summary>
    public static long LayerCycles(QuantizedLayer layer, int lanes) => layer switch
    {
        LinearLayer l => LinearHardware.Cycles(l, lanes),
        PositionalEncodingLayer p => PositionalEncodingHardware.Cycles(p),
        ScoresLayer s => AttentionHardware.Cycles(s),
        SoftmaxLayer s => AttentionHardware.Cycles(s),
        ContextLayer c => AttentionHardware.Cycles(c),
        ResidualAddLayer r => ResidualHardware.Cycles(r),
        BatchNormLayer b => BatchNormHardware.Cycles(b),
        LayerNormLayer n => LayerNormHardware.Cycles(n),
        AveragePoolLayer a => PoolingHardware.Cycles(a),
        _ => 0,
    };

    /// <summary>A layer's share of the total latency: its own cycles plus the sequencer hand-off; 0 for fused layers.</summary>
    public static long Cycles(QuantizedLayer layer, LayerChoice choice) =>
        HasHardware(layer) ? LayerCycles(layer, Lanes(layer, choice)) + HandoffCycles : 0;

    /// <summary>Clock cycles of one inference as SPEC §7 counts them (start sample to done); the sum of <see cref="Cycles"/>.</summary>
    public static long TotalCycles(IntegerTransformer model, LayerPlan plan) => model.Layers.Sum(l => Cycles(l, plan[l.Name]));

    /// <summary>The memory a buffer uses: the plan's choice, or for Auto block RAM from <see cref="AutoBlockRamBits"/> bits on.</summary>
    public static BufferResource Buffer(long depth, int width, BufferResource choice) =>
        choice != BufferResource.Auto ? choice : depth * width >= AutoBlockRamBits ? BufferResource.Block : BufferResource.Distributed;

    /// <summary>Throws TFPGA024 when a linear layer's output count is not a multiple of its lanes.</summary>
    public static void ValidateLanes(IntegerTransformer model, LayerPlan plan, string projectFile)
    {
        foreach (var layer in model.Layers.OfType<LinearLayer>())
        {
            int lanes = plan[layer.Name].Lanes;
            if (layer.Out % lanes != 0)
            {
                var divisors = Enumerable.Range(1, layer.Out).Where(d => layer.Out % d == 0 && d <= LayerPlan.MaxLanes);
                throw new FpgaException(ErrorCodes.InvalidLanes, projectFile,
                    $"layer '{layer.Name}' has {layer.Out} outputs, which {lanes} MAC lanes do not divide; use one of {string.Join(", ", divisors)} (LayerParallelism Lanes or FpgaDefaultLanes)");
            }
        }
    }
}
