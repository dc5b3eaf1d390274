using System.Globalization;
using TransformerFpga.Hdl;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Hardware;

/// <summary>The critical register-to-register path of one layer (or of the control: the top's sequencer).</summary>
public sealed record LayerTiming(string Name, TimingPath Path)
{
    public double Nanoseconds => Path.Nanoseconds;
    public double FmaxMHz => Path.FmaxMHz;
    public string Description => Path.ToString();
}

/// <summary>
/// The estimated timing of a generated design: each hardware layer's critical path from the timing
/// model of its template, and the design's worst path, Fmax and critical layer.
/// </summary>
public sealed record DesignTiming(IReadOnlyList<LayerTiming> Layers)
{
    public const string ControlName = "control";

    /// <summary>The layer with the longest path (the first of equals, in design order).</summary>
    public LayerTiming Critical => Layers.Aggregate((worst, l) => l.Nanoseconds > worst.Nanoseconds ? l : worst);

    public double FmaxMHz => Critical.FmaxMHz;

    /// <summary>The clock the design meets: the requested one, or the estimated Fmax when that is lower.</summary>
    public double MetClockMHz(double requestedMHz) => Math.Min(requestedMHz, FmaxMHz);

    public static DesignTiming Of(HdlGenerator.Design design)
    {
        var layers = design.OwnDatapaths.Select(l => new LayerTiming(l.Layer.Name, CriticalPath(l))).ToList();
        if (design.Engine is not null) layers.Add(new LayerTiming(ResourceModel.EngineRow, Engine.EngineTiming.CriticalPath(design)));
        int readers = design.Buffers.Select(b => design.Layers.Count(l => l.Sources.Contains(b))).DefaultIfEmpty(1).Max();
        long lutRamDepth = design.Buffers.Where(b => b.Resource == BufferResource.Distributed).Select(b => b.BankDepth).DefaultIfEmpty(0).Max();
        layers.Add(new LayerTiming(ControlName, HardwareModel.SequencerPath(design.Layers.Count, readers, lutRamDepth)));
        return new DesignTiming(layers);
    }

    /// <summary>The critical path of a hardware layer: its kind's timing model of its template.</summary>
    public static TimingPath CriticalPath(HdlGenerator.LayerInfo info) => info.Datapath.CriticalPath(info.Lanes, info.LutMultipliers, info.Weights);

    /// <summary>`Fmax 48.2 MHz (critical: encoder0.ffn.fc1, 20.7 ns)`.</summary>
    public string Line() => string.Create(CultureInfo.InvariantCulture, $"Fmax {FmaxMHz:0.#} MHz (critical: {Critical.Name}, {Critical.Nanoseconds:0.0} ns)");
}
