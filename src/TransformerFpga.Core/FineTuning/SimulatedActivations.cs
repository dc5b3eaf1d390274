using TransformerFpga.Integer;
using TransformerFpga.Layers;
using TransformerFpga.Quantization;

namespace TransformerFpga.FineTuning;

/// <summary>
/// Runs the integer simulator (the golden model) on one window and hands its layers' outputs to the training network
/// (<see cref="Training.TransformerNetwork.ForwardQuantized"/>): the training forward is then the hardware's, bit for bit,
/// with the same calibrated scales, dyadic rescales, rounding, saturation, softmax table and reciprocal and integer norms.
/// </summary>
public sealed class SimulatedActivations
{
    private readonly IntegerTransformer _model;
    private readonly SimulationWorkspace _workspace;
    private readonly Dictionary<string, QuantizedLayer> _layers;

    public SimulatedActivations(IntegerTransformer model)
    {
        _model = model;
        _workspace = model.CreateWorkspace();
        _layers = model.Layers.ToDictionary(l => l.Name, StringComparer.Ordinal);
    }

    public void Run(ReadOnlySpan<float> window)
    {
        _model.QuantizeInput(window, _workspace.Input);
        _model.Simulate(_workspace);
    }

    /// <summary>
    /// The dequantized output of a layer of the last run and its straight-through mask: 0 where the integer sits at its
    /// saturation bound. The simulator keeps no value from before saturation, so an element rounded exactly onto the
    /// bound counts as saturated too; with scales set from the calibrated maximum that is the calibration's extreme value.
    /// </summary>
    public void Read(string layer, double[] values, double[] mask)
    {
        int[] integers;
        QuantScale scale;
        if (layer == "input")
        {
            integers = _workspace.Input;
            scale = _model.Input;
        }
        else
        {
            var source = _layers[layer];
            integers = _workspace.Of(source);
            scale = source.Output;
        }
        for (int i = 0; i < values.Length; i++)
        {
            int q = integers[i];
            values[i] = scale.Dequantize(q);
            // An unsigned value (the softmax's probability) is never clamped at 0: only its Max is a saturation bound.
            mask[i] = q == scale.Max || (q == scale.Min && !scale.Unsigned) ? 0 : 1;
        }
    }
}
