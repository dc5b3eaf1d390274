using TransformerFpga.Hdl;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Hardware;

/// <summary>The kinds of generated modules the resource model tells apart.</summary>
public enum ModuleKind
{
    Top, BlockBuffer, DistributedBuffer, Linear, PositionalEncoding, Scores, Softmax, Context, ResidualAdd, BatchNorm, LayerNorm, AveragePool, Engine,
}

/// <summary>One generated entity (or the top with its read multiplexers) and the layer it belongs to.</summary>
/// <remarks>A buffer split into column banks is one entity instantiated <paramref name="Instances"/> times.</remarks>
/// <param name="Datapath">The layer's datapath for a layer's entity; null for the top and the buffers.</param>
public sealed record DesignModule(string Entity, string Layer, ModuleKind Kind, VhdlModule Vhdl, int Instances = 1, LayerDatapath? Datapath = null);

/// <summary>
/// Estimates LUT, LUT-as-memory, FF, RAMB18 and DSP48E1 per generated module. LUT, FF and the LUTs
/// Yosys turns into shift registers are linear in structural features of the module (widths, lanes,
/// ROM bits — read from the generated VHDL), with coefficients per module kind fitted to synthesis;
/// block RAM, LUT RAM of the buffers and DSPs follow counting rules. Each layer kind's features and
/// rules live beside its template (its <see cref="LayerDatapath"/> and *Resources classes).
/// </summary>
public static class ResourceModel
{
    /// <summary>The row of the shared MAC engine in an Engine design's estimate.</summary>
    public const string EngineRow = "engine";

    public static IReadOnlyList<DesignModule> Modules(HdlGenerator.Design design, Func<string, string> fileText)
    {
        var modules = new List<DesignModule>
        {
            new(design.Top, "(top)", ModuleKind.Top, VhdlModule.Parse(fileText(design.Top + ".vhd"))),
        };
        foreach (var b in design.Buffers)
            modules.Add(BufferModule(b, fileText(b.Entity + ".vhd")));
        foreach (var l in design.OwnDatapaths)
            modules.Add(LayerModule(l, fileText(l.Entity + ".vhd")));
        if (design.Engine is not null)
            modules.Add(new(design.EngineEntity, EngineRow, ModuleKind.Engine, VhdlModule.Parse(fileText(design.EngineEntity + ".vhd"))));
        return modules;
    }

    /// <summary>The module of a buffer (all its column banks that hold values) from its generated VHDL.</summary>
    public static DesignModule BufferModule(HdlGenerator.BufferInfo buffer, string vhdl) =>
        new(buffer.Entity, buffer.Name, buffer.Resource == BufferResource.Block ? ModuleKind.BlockBuffer : ModuleKind.DistributedBuffer, VhdlModule.Parse(vhdl), buffer.LiveBanks);

    /// <summary>The module of a layer's entity from its generated VHDL.</summary>
    public static DesignModule LayerModule(HdlGenerator.LayerInfo layer, string vhdl) =>
        new(layer.Entity, layer.Layer.Name, layer.Datapath.ModuleKind, VhdlModule.Parse(vhdl), Datapath: layer.Datapath);

    /// <summary>The structural features of a module, first the constant 1.</summary>
    public static double[] Features(DesignModule module, HdlGenerator.Design design) => module.Kind switch
    {
        ModuleKind.Top => TopFeatures(design),
        ModuleKind.BlockBuffer or ModuleKind.DistributedBuffer => BufferResources.Features(module.Vhdl, module.Kind == ModuleKind.BlockBuffer, module.Instances),
        ModuleKind.Engine => Engine.EngineResources.Features(module.Vhdl, design),
        _ => DatapathOf(module).Features(module.Vhdl, DatapathOf(module).HasLanes ? DistributedSourceBits(module, design) : 0),
    };

    private static LayerDatapath DatapathOf(DesignModule module) =>
        module.Datapath ?? throw new ArgumentException($"module {module.Entity} ({module.Kind}) has no layer datapath", nameof(module));

    /// <summary>
    /// The features whose coefficients may be negative: <see cref="DistributedSourceBits"/>, the last feature of the
    /// MAC kinds (flattening turns flip-flops into shift registers, so it takes flip-flops away), and a buffer's
    /// two bank features (see <see cref="BufferResources.Features"/>). All others add.
    /// </summary>
    public static IReadOnlySet<int> SignedFeatures(DesignModule module, int featureCount) => module.Kind switch
    {
        ModuleKind.Top or ModuleKind.Engine => new HashSet<int>(),
        ModuleKind.BlockBuffer or ModuleKind.DistributedBuffer => new HashSet<int> { featureCount - 2, featureCount - 1 },
        _ => DatapathOf(module).SignedFeatures(featureCount),
    };

    /// <summary>
    /// Read-data bits a MAC layer takes from buffers in LUT RAM. Such a buffer registers its read data in fabric
    /// flip-flops, so in a flattened design that register and the layer's input and operand registers form chains
    /// Yosys turns into SRL shift registers (flip-flops become LUT RAM); a block RAM's output register is inside the
    /// RAMB18 and leaves no such chain.
    /// </summary>
    private static double DistributedSourceBits(DesignModule module, HdlGenerator.Design design)
    {
        var layer = design.Layers.First(l => l.Entity == module.Entity);
        return layer.Sources.Select((source, i) => source.Resource == BufferResource.Distributed ? module.Vhdl.PortWidth($"src{i}_rd_data") : 0).Sum();
    }

    /// <summary>
    /// The sequencer grows with the number of layers; the read multiplexers with their inputs × address bits. (The
    /// bank multiplexers of banked buffers are their buffer's: the exploration takes the top as fixed.)
    /// </summary>
    private static double[] TopFeatures(HdlGenerator.Design design)
    {
        var readers = new Dictionary<HdlGenerator.BufferInfo, int>();
        foreach (var l in design.Layers)
            foreach (var s in l.Sources) readers[s] = readers.GetValueOrDefault(s) + 1;
        double muxBits = readers.Where(r => r.Value > 1).Sum(r => (double)r.Value * r.Key.AddressBits);
        return [1, design.Layers.Count, muxBits];
    }

    /// <summary>RAMB18 halves and DSP48E1 by counting rules.</summary>
    public static (int Bram18, int Dsp) Counted(DesignModule module) => module.Kind switch
    {
        ModuleKind.BlockBuffer => (BufferResources.BlockRam18(module.Vhdl), 0),
        ModuleKind.DistributedBuffer or ModuleKind.Top => (0, 0),
        ModuleKind.Engine => Engine.EngineResources.Counted(module.Vhdl),
        _ => DatapathOf(module).Counted(module.Vhdl),
    };

    /// <summary>LUT RAM a layer's entity holds in small internal memories, counted rather than fitted.</summary>
    public static int CountedLutRam(DesignModule module) => module.Kind switch
    {
        ModuleKind.BlockBuffer or ModuleKind.DistributedBuffer or ModuleKind.Top or ModuleKind.Engine => 0,
        _ => DatapathOf(module).CountedLutRam(module.Vhdl),
    };

    /// <summary>One instance's counted LUT RAM as resources (each LUT RAM is also a LUT): what fits and refits leave out of the coefficients.</summary>
    public static Resources CountedMemory(DesignModule module)
    {
        int lutRam = CountedLutRam(module);
        return new Resources(lutRam, lutRam, 0, 0, 0);
    }

    /// <summary>The estimate of one module (all its instances) with fitted LUT, FF and LUT-RAM coefficients.</summary>
    public static Resources Estimate(DesignModule module, HdlGenerator.Design design, ResourceCoefficients coefficients)
    {
        var f = Features(module, design);
        var c = coefficients.For(module.Kind);
        double Dot(double[] w) { double s = 0; for (int i = 0; i < f.Length && i < w.Length; i++) s += w[i] * f[i]; return s; }
        var (bram, dsp) = Counted(module);
        var counted = CountedMemory(module);
        int lutRam = module.Kind == ModuleKind.DistributedBuffer ? BufferResources.LutRam(module.Vhdl) : (int)Math.Round(Math.Max(0, Dot(c.LutRam))) + counted.LutRam;
        int lut = (int)Math.Round(Math.Max(0, Dot(c.Lut))) + counted.Lut;
        if (module.Kind == ModuleKind.DistributedBuffer) lut = Math.Max(lut, lutRam);
        return new Resources(lut, lutRam, (int)Math.Round(Math.Max(0, Dot(c.Ff))), bram, dsp) * module.Instances;
    }
}
