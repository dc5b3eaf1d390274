using System.Numerics;
using TransformerFpga.Layers;

namespace TransformerFpga.Hardware;

/// <summary>
/// Switching activity the integer simulator sees: per layer, the mean share of the output bits that flip
/// between consecutive values written to its buffer (index order, the order the layer's write port carries
/// them), over all simulated windows. It is the toggle rate the power model applies to the layer's logic.
/// </summary>
public sealed class PowerActivity
{
    private readonly long[] _toggles;
    private readonly long[] _bitTransitions;
    private long _inputToggles, _inputBitTransitions;

    public PowerActivity(IReadOnlyList<QuantizedLayer> layers)
    {
        Layers = layers;
        _toggles = new long[layers.Count];
        _bitTransitions = new long[layers.Count];
    }

    public IReadOnlyList<QuantizedLayer> Layers { get; }

    /// <summary>Adds one window: the quantized input and every layer's buffer after the simulation.</summary>
    public void Record(SimulationWorkspace workspace, int inputBits)
    {
        Count(workspace.Input, inputBits, ref _inputToggles, ref _inputBitTransitions);
        foreach (var layer in Layers)
        {
            if (layer.BufferOwner != layer) continue;
            Count(workspace.Buffers[layer.Index], layer.ActivationBits, ref _toggles[layer.Index], ref _bitTransitions[layer.Index]);
        }
    }

    /// <summary>Toggle rate (0–1) of a layer's output values, by layer name; a fused layer has its producer's.</summary>
    public double Of(string layerName)
    {
        var layer = Layers.FirstOrDefault(l => l.Name == layerName);
        if (layer is null) return 0;
        int owner = layer.BufferOwner.Index;
        return _bitTransitions[owner] == 0 ? 0 : (double)_toggles[owner] / _bitTransitions[owner];
    }

    /// <summary>Toggle rate (0–1) of the model input as it is written into the input buffer.</summary>
    public double Input => _inputBitTransitions == 0 ? 0 : (double)_inputToggles / _inputBitTransitions;

    /// <summary>Hamming distance of consecutive values in two's complement of <paramref name="bits"/> bits.</summary>
    private static void Count(int[] values, int bits, ref long toggles, ref long bitTransitions)
    {
        if (values.Length < 2 || bits <= 0) return;
        uint mask = bits >= 32 ? uint.MaxValue : (1u << bits) - 1;
        long sum = 0;
        for (int i = 1; i < values.Length; i++)
            sum += BitOperations.PopCount((uint)(values[i] ^ values[i - 1]) & mask);
        toggles += sum;
        bitTransitions += (long)(values.Length - 1) * bits;
    }
}
