using TransformerFpga.Hardware;
using TransformerFpga.Hdl;
using TransformerFpga.Integer;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Explore;

/// <summary>Resources and latency of one design.</summary>
public readonly record struct DesignCost(Resources Resources, long Cycles)
{
    /// <summary>
    /// Share of LUTs and FFs the search's cost may differ from the estimate by: bias correction sets each linear layer's
    /// biases from the bits of every layer before it, while the search costs a layer's bias table with the biases of a
    /// plan that shares only its own choices (the table's constant bits, which synthesis prunes, can differ).
    /// </summary>
    public const double BiasTableTolerance = 0.01;

    /// <summary>The same cycles, BRAM18, DSP48E1 and LUT RAM, and LUTs and FFs within <see cref="BiasTableTolerance"/>.</summary>
    public bool Matches(Resources estimate, long cycles) =>
        Cycles == cycles && Resources.Bram18 == estimate.Bram18 && Resources.Dsp == estimate.Dsp && Resources.LutRam == estimate.LutRam
        && Math.Abs(Resources.Lut - estimate.Lut) <= BiasTableTolerance * estimate.Lut && Math.Abs(Resources.Ff - estimate.Ff) <= BiasTableTolerance * estimate.Ff;
}

/// <summary>
/// The resource estimate and latency of any design in a <see cref="DesignSpace"/>, equal to what
/// <see cref="PlanEstimator"/> computes for its plan, at the price of table look-ups.
/// <para>
/// The estimate of a design is a sum over generated modules (DesignEstimate): the control, the input
/// buffer, and per hardware layer its entity and the buffer it writes. Each module's VHDL depends on a
/// few choices only: a layer's entity on its own option, its sources' activation bits, column banks and
/// memory (whose estimate depends on it), and the banks of its own buffer (the lanes of the attention layer reading it); a buffer on its
/// activation bits, memory and banks; the input buffer on the first layer's activation bits; the
/// control on nothing that varies. So each module is generated and estimated once per distinct
/// combination of those choices (with the same generator and resource model as the build) and cached;
/// a design's resources are the sum of its modules' (exactly, but for the linear layers' bias tables: see
/// <see cref="DesignCost.BiasTableTolerance"/>), and its cycles the sum of its layers' from the latency model, computed
/// with each entity.
/// </para>
/// </summary>
public sealed class DesignCosts
{
    private readonly DesignSpace _space;
    private readonly ModelEvaluation _evaluation;
    private readonly string _top;
    private readonly ResourceCoefficients _coefficients;
    private readonly Dictionary<ModuleKey, (Resources Resources, long Cycles)> _modules = new();
    private readonly Dictionary<string, Lazy<IntegerTransformer>> _models = new(StringComparer.Ordinal);
    private readonly int _inputReader;

    /// <param name="control">The control module's resources (the "control" row of any design's estimate: it does not vary).</param>
    public DesignCosts(DesignSpace space, ModelEvaluation evaluation, string top, ResourceCoefficients coefficients, Resources control)
    {
        _space = space;
        _evaluation = evaluation;
        _top = top;
        _coefficients = coefficients;
        Control = control;
        _inputReader = space.Layers.Single(l => l.Sources.Count == 0).Index;
    }

    public Resources Control { get; }

    /// <summary>Modules generated and estimated so far.</summary>
    public int ModulesEstimated { get; private set; }

    /// <summary>The estimate's total resources and the latency of a design.</summary>
    public DesignCost Cost(int[] genome)
    {
        var total = Control;
        long cycles = 0;
        foreach (var key in Keys(genome))
        {
            var (resources, moduleCycles) = Module(key);
            total += resources;
            cycles += moduleCycles;
        }
        return new DesignCost(total, cycles);
    }

    /// <summary>Estimates the modules of these designs that are not known yet, in parallel (each result has its own slot: the outcome does not depend on scheduling).</summary>
    public void Prepare(IEnumerable<int[]> genomes, CancellationToken cancellation)
    {
        var missing = new SortedSet<ModuleKey>();
        foreach (var genome in genomes)
            foreach (var key in Keys(genome))
                if (!_modules.ContainsKey(key)) missing.Add(key);
        if (missing.Count == 0) return;
        var keys = missing.ToArray();
        var results = new (Resources, long)[keys.Length];
        Parallel.For(0, keys.Length, new ParallelOptions { CancellationToken = cancellation }, i => results[i] = Estimate(keys[i]));
        for (int i = 0; i < keys.Length; i++) _modules[keys[i]] = results[i];
        ModulesEstimated += keys.Length;
    }

    private (Resources Resources, long Cycles) Module(ModuleKey key)
    {
        if (_modules.TryGetValue(key, out var r)) return r;
        r = Estimate(key);
        _modules[key] = r;
        ModulesEstimated++;
        return r;
    }

    /// <summary>The modules of a design, each with exactly the choices its VHDL depends on.</summary>
    private ModuleKey[] Keys(int[] genome)
    {
        var layers = _space.Layers;
        var options = new LayerOption[layers.Count];
        for (int i = 0; i < options.Length; i++) options[i] = layers[i][genome[i]];
        int Banks(int layer) => layers[layer].BankReader is int reader and >= 0 ? options[reader].Lanes : 1;
        var keys = new ModuleKey[1 + 2 * layers.Count];
        keys[0] = ModuleKey.ForInput(options[_inputReader].ActivationBits);
        foreach (var l in layers)
        {
            var o = options[l.Index];
            int banks = Banks(l.Index);
            long sourceBits = 0, sourceBanks = 0, sourceBuffers = 0;
            foreach (int s in l.Sources)
            {
                sourceBits = sourceBits * 32 + options[s].ActivationBits;
                sourceBanks = sourceBanks * 128 + Banks(s);
                // A layer's estimate depends on the memory of the buffers it reads (ResourceModel.DistributedSourceBits).
                sourceBuffers = sourceBuffers * 4 + (int)options[s].Buffer;
            }
            keys[1 + 2 * l.Index] = ModuleKey.ForEntity(l.Index, o.WeightBits, o.ActivationBits, o.Lanes, o.Multiplier, banks, sourceBits, sourceBanks, sourceBuffers);
            keys[2 + 2 * l.Index] = ModuleKey.ForBuffer(l.Index, o.ActivationBits, o.Buffer, banks);
        }
        return keys;
    }

    /// <summary>
    /// Generates one module in a design that has the key's choices and estimates it; a layer's entity also gives the
    /// layer's cycles (which can depend on its quantization: the layer norm's square root follows its widths).
    /// </summary>
    private (Resources Resources, long Cycles) Estimate(ModuleKey key)
    {
        int widest = _space.WidestBits;
        var bits = new LayerBits[_space.Layers.Count];
        var lanes = new int[_space.Layers.Count];
        Array.Fill(bits, new LayerBits(widest, widest));
        Array.Fill(lanes, 1);
        var buffers = new BufferResource[_space.Layers.Count];
        Array.Fill(buffers, BufferResource.Block);
        var multiplier = MultiplierMapping.Dsp;
        LayerSpace? layer = key.Layer >= 0 ? _space.Layers[key.Layer] : null;
        switch (key.Kind)
        {
            case ModuleKind.Input:
                bits[_inputReader] = new LayerBits(widest, key.ActivationBits);
                break;
            case ModuleKind.Buffer:
                bits[key.Layer] = new LayerBits(widest, key.ActivationBits);
                buffers[key.Layer] = key.Buffer;
                if (layer!.BankReader >= 0) lanes[layer.BankReader] = key.Banks;
                break;
            default:
                bits[key.Layer] = new LayerBits(key.WeightBits == 0 ? widest : key.WeightBits, key.ActivationBits);
                lanes[key.Layer] = key.Lanes;
                multiplier = key.Multiplier;
                if (layer!.BankReader >= 0) lanes[layer.BankReader] = key.Banks;
                long sourceBits = key.SourceBits, sourceBanks = key.SourceBanks, sourceBuffers = key.SourceBuffers;
                for (int k = layer.Sources.Count - 1; k >= 0; k--)
                {
                    int s = layer.Sources[k];
                    bits[s] = new LayerBits(widest, (int)(sourceBits % 32));
                    buffers[s] = (BufferResource)(sourceBuffers % 4);
                    sourceBuffers /= 4;
                    int banks = (int)(sourceBanks % 128);
                    int reader = _space.Layers[s].BankReader;
                    if (reader >= 0 && reader != key.Layer) lanes[reader] = banks;
                    sourceBits /= 32;
                    sourceBanks /= 128;
                }
                break;
        }

        var model = Model(bits);
        var plan = LayerPlan.From(_space.LayerNames, name =>
        {
            int owner = _space.OwnerOf(name);
            return new LayerChoice(bits[owner], buffers[owner], lanes[owner],
                owner == key.Layer ? multiplier : MultiplierMapping.Dsp, LanesExplicit: true, Weights: _space.Weights(name));
        });
        var design = HdlGenerator.Plan(model, plan, _top);
        if (key.Kind == ModuleKind.Input)
            return (ResourceModel.Estimate(ResourceModel.BufferModule(design.Input, HdlGenerator.BufferVhdl(design.Input)), design, _coefficients), 0);
        var info = design.Layers.Single(l => l.Layer.Name == layer!.Name);
        return key.Kind == ModuleKind.Buffer
            ? (ResourceModel.Estimate(ResourceModel.BufferModule(info.Output, HdlGenerator.BufferVhdl(info.Output)), design, _coefficients), 0)
            : (ResourceModel.Estimate(ResourceModel.LayerModule(info, HdlGenerator.LayerVhdl(info)), design, _coefficients), HardwareModel.Cycles(info.Layer, plan[info.Layer.Name]));
    }

    private IntegerTransformer Model(LayerBits[] bits)
    {
        string key = string.Join(";", bits.Select(b => b.WeightBits + "," + b.ActivationBits));
        Lazy<IntegerTransformer> model;
        lock (_models)
        {
            if (!_models.TryGetValue(key, out model!))
            {
                // Bounded: modules are estimated in key order, so neighbours share their model.
                if (_models.Count >= 64) _models.Clear();
                _models[key] = model = new Lazy<IntegerTransformer>(() => _evaluation.Quantize(name => bits[_space.OwnerOf(name)]));
            }
        }
        return model.Value;
    }

    private enum ModuleKind { Input, Entity, Buffer }

    /// <summary>The choices one module's VHDL depends on (unused fields are zero).</summary>
    private readonly record struct ModuleKey(ModuleKind Kind, int Layer, int WeightBits, int ActivationBits, int Lanes, MultiplierMapping Multiplier,
        BufferResource Buffer, int Banks, long SourceBits, long SourceBanks, long SourceBuffers = 0) : IComparable<ModuleKey>
    {
        public static ModuleKey ForInput(int activationBits) => new(ModuleKind.Input, -1, 0, activationBits, 0, default, default, 0, 0, 0);

        public static ModuleKey ForEntity(int layer, int weightBits, int activationBits, int lanes, MultiplierMapping multiplier, int banks, long sourceBits, long sourceBanks,
            long sourceBuffers) =>
            new(ModuleKind.Entity, layer, weightBits, activationBits, lanes, multiplier, default, banks, sourceBits, sourceBanks, sourceBuffers);

        public static ModuleKey ForBuffer(int layer, int activationBits, BufferResource buffer, int banks) =>
            new(ModuleKind.Buffer, layer, 0, activationBits, 0, default, buffer, banks, 0, 0);

        public int CompareTo(ModuleKey other)
        {
            int c = Kind.CompareTo(other.Kind);
            if (c == 0) c = Layer.CompareTo(other.Layer);
            if (c == 0) c = WeightBits.CompareTo(other.WeightBits);
            if (c == 0) c = ActivationBits.CompareTo(other.ActivationBits);
            if (c == 0) c = SourceBits.CompareTo(other.SourceBits); // the fields above and this one decide the quantized model
            if (c == 0) c = Lanes.CompareTo(other.Lanes);
            if (c == 0) c = Multiplier.CompareTo(other.Multiplier);
            if (c == 0) c = Buffer.CompareTo(other.Buffer);
            if (c == 0) c = Banks.CompareTo(other.Banks);
            if (c == 0) c = SourceBanks.CompareTo(other.SourceBanks);
            if (c == 0) c = SourceBuffers.CompareTo(other.SourceBuffers);
            return c;
        }
    }
}
