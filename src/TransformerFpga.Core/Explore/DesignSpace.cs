using System.Globalization;
using System.Text;
using TransformerFpga.Hdl;
using TransformerFpga.Integer;
using TransformerFpga.Layers;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Explore;

/// <summary>One hardware layer's choice: its bits, the memory of the buffer it writes, its MAC lanes and multipliers.</summary>
/// <param name="WeightBits">0 for a layer whose weights (if any) do not follow the plan's bits.</param>
public readonly record struct LayerOption(int WeightBits, int ActivationBits, BufferResource Buffer, int Lanes, MultiplierMapping Multiplier)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{(WeightBits == 0 ? "-" : WeightBits.ToString(CultureInfo.InvariantCulture))}/{ActivationBits} {Buffer} x{Lanes} {Multiplier}");
}

/// <summary>
/// The choices of one hardware layer: every combination of its weight bits, activation bits, buffer
/// memory, lanes and multiplier mapping. An option is a mixed-radix index over these five lists.
/// </summary>
public sealed class LayerSpace
{
    internal LayerSpace(QuantizedLayer layer, int index, int[] weightBits, int[] activationBits, BufferResource[] buffers, int[] lanes,
        MultiplierMapping[] multipliers, int[] sources, int bankReader)
    {
        Layer = layer;
        Index = index;
        WeightBits = weightBits;
        ActivationBits = activationBits;
        Buffers = buffers;
        Lanes = lanes;
        Multipliers = multipliers;
        Sources = sources;
        BankReader = bankReader;
        _radices = [weightBits.Length, activationBits.Length, buffers.Length, lanes.Length, multipliers.Length];
        _options = Enumerable.Range(0, Count).Select(Decode).ToArray();
    }

    /// <summary>Every option decoded once: the search reads them millions of times.</summary>
    private readonly LayerOption[] _options;
    /// <summary>The sizes of the five lists, in the order of an option's digits.</summary>
    private readonly int[] _radices;

    /// <summary>The layer in the widest-bits model (its structure; the bits of a design come from the option).</summary>
    public QuantizedLayer Layer { get; }
    public string Name => Layer.Name;
    /// <summary>Position among the hardware layers.</summary>
    public int Index { get; }
    /// <summary>Candidate weight bits, ascending; [0] when the layer has no weights whose bits can be chosen.</summary>
    public IReadOnlyList<int> WeightBits { get; }
    public IReadOnlyList<int> ActivationBits { get; }
    public IReadOnlyList<BufferResource> Buffers { get; }
    /// <summary>Powers of two that divide the layer's parallel dimension and each save cycles over the one before.</summary>
    public IReadOnlyList<int> Lanes { get; }
    /// <summary>Dsp and Lut for MAC layers; Dsp only (no choice) for the others.</summary>
    public IReadOnlyList<MultiplierMapping> Multipliers { get; }
    /// <summary>Hardware layers whose buffers this layer reads (empty: it reads the input window).</summary>
    public IReadOnlyList<int> Sources { get; }
    /// <summary>The hardware layer whose lanes split this layer's buffer into column banks, or −1.</summary>
    public int BankReader { get; }

    public bool HasWeightBits => WeightBits[0] != 0;

    public int Count => WeightBits.Count * ActivationBits.Count * Buffers.Count * Lanes.Count * Multipliers.Count;

    public LayerOption this[int option] => _options[option];

    private LayerOption Decode(int option)
    {
        var d = Digits(option);
        return new LayerOption(WeightBits[d[0]], ActivationBits[d[1]], Buffers[d[2]], Lanes[d[3]], Multipliers[d[4]]);
    }

    /// <summary>The index of an option, or −1 when one of its values is not a candidate of this layer.</summary>
    public int IndexOf(LayerOption option)
    {
        int[] d =
        [
            IndexOf(WeightBits, HasWeightBits ? option.WeightBits : 0), IndexOf(ActivationBits, option.ActivationBits),
            IndexOf(Buffers, option.Buffer), IndexOf(Lanes, option.Lanes), IndexOf(Multipliers, option.Multiplier),
        ];
        return d.Any(x => x < 0) ? -1 : FromDigits(d);
    }

    /// <summary>Another option that differs in one attribute (bits, buffer, lanes or multipliers), chosen at random.</summary>
    internal int Mutate(int option, SplitMix64 random)
    {
        var d = Digits(option);
        var radices = _radices;
        var free = Enumerable.Range(0, radices.Length).Where(k => radices[k] > 1).ToArray();
        if (free.Length == 0) return option;
        int k = free[random.Next(free.Length)];
        d[k] = (d[k] + 1 + random.Next(radices[k] - 1)) % radices[k];
        return FromDigits(d);
    }

    private int[] Digits(int option)
    {
        var radices = _radices;
        var d = new int[radices.Length];
        for (int k = radices.Length - 1; k >= 0; k--)
        {
            d[k] = option % radices[k];
            option /= radices[k];
        }
        return d;
    }

    private int FromDigits(int[] d)
    {
        var radices = _radices;
        int option = 0;
        for (int k = 0; k < radices.Length; k++) option = option * radices[k] + d[k];
        return option;
    }

    private static int IndexOf<T>(IReadOnlyList<T> values, T value)
    {
        for (int i = 0; i < values.Count; i++)
            if (EqualityComparer<T>.Default.Equals(values[i], value)) return i;
        return -1;
    }
}

/// <summary>
/// Every design FpgaExplore considers: per hardware layer, weight bits (linear layers; norms keep their
/// 16-bit gains) and activation bits from FpgaExploreBits, Block or Distributed buffer memory, lanes in
/// powers of two up to the last that still saves cycles, and DSP or LUT multipliers for the MAC layers.
/// A fused layer (the ReLU) has no hardware and follows its producer. A design is a genome: one option
/// index per hardware layer.
/// </summary>
public sealed class DesignSpace
{
    private readonly int[] _owner;
    /// <summary>Position of every model layer in <see cref="LayerNames"/>, by name.</summary>
    private readonly Dictionary<string, int> _index;

    private readonly Func<string, BufferResource> _weights;

    /// <summary>Where a layer's weight ROM goes in every design: the project's WeightResource items (not searched).</summary>
    public BufferResource Weights(string layerName) => _weights(layerName);

    private DesignSpace(IReadOnlyList<string> layerNames, IReadOnlyList<LayerSpace> layers, int[] owner, int widestBits, Func<string, BufferResource> weights)
    {
        _weights = weights;
        LayerNames = layerNames;
        Layers = layers;
        _owner = owner;
        _index = layerNames.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => x.i, StringComparer.Ordinal);
        WidestBits = widestBits;
    }

    /// <summary>All layer names of the model, in execution order (the plan's names).</summary>
    public IReadOnlyList<string> LayerNames { get; }
    /// <summary>The hardware layers (every layer but the fused ones), in execution order.</summary>
    public IReadOnlyList<LayerSpace> Layers { get; }
    /// <summary>The bits of the reference design (every layer at the widest candidate); also the weight bits written for layers without weights.</summary>
    public int WidestBits { get; }

    /// <summary>log10 of the number of designs.</summary>
    public double Log10Size => Layers.Sum(l => Math.Log10(l.Count));

    /// <param name="quantize">Quantizes the model for per-layer bits (the structure of the design space comes from it).</param>
    /// <param name="weightMemory">The weight ROM memory of each layer, kept in every design; null = Auto everywhere.</param>
    public static DesignSpace Create(Func<Func<string, LayerBits>, IntegerTransformer> quantize, IReadOnlyList<int> bits, Func<string, BufferResource>? weightMemory = null)
    {
        int widest = bits[^1];
        var model = quantize(_ => new LayerBits(widest, widest));
        // Layers whose weight bits follow the plan show it when quantized with other weight bits.
        int other = widest == LayerPlan.MinBits ? LayerPlan.MinBits + 1 : LayerPlan.MinBits;
        var probe = quantize(_ => new LayerBits(other, widest));

        var hardware = model.Layers.Where(HardwareModel.HasHardware).ToList();
        var position = hardware.Select((l, i) => (l, i)).ToDictionary(x => x.l, x => x.i);
        var bankReader = new int[hardware.Count];
        Array.Fill(bankReader, -1);
        foreach (var reader in hardware)
            foreach (var source in HdlGenerator.BankedSources(reader))
                bankReader[position[source]] = position[reader];

        var layers = new List<LayerSpace>();
        foreach (var layer in hardware)
        {
            int i = position[layer];
            bool weights = probe.Layers[layer.Index].WeightBits != layer.WeightBits;
            MultiplierMapping[] multipliers = HardwareModel.HasLanes(layer) ? [MultiplierMapping.Dsp, MultiplierMapping.Lut] : [MultiplierMapping.Dsp];
            layers.Add(new LayerSpace(layer, i,
                weights ? bits.ToArray() : [0],
                bits.ToArray(),
                [BufferResource.Block, BufferResource.Distributed],
                UsefulLanes(layer),
                multipliers,
                layer.Sources.Select(s => position[s.BufferOwner]).ToArray(),
                bankReader[i]));
        }
        var owner = model.Layers.Select(l => position[l.BufferOwner]).ToArray();
        return new DesignSpace(model.Layers.Select(l => l.Name).ToList(), layers, owner, widest, weightMemory ?? (_ => BufferResource.Auto));
    }

    /// <summary>Lanes 1, 2, 4, … that divide the layer's parallel dimension, each saving cycles over the previous one.</summary>
    public static int[] UsefulLanes(QuantizedLayer layer)
    {
        var valid = HardwareModel.ValidLanes(layer).ToHashSet();
        var lanes = new List<int> { 1 };
        long cycles = HardwareModel.LayerCycles(layer, 1);
        for (int l = 2; l <= LayerPlan.MaxLanes; l *= 2)
        {
            if (!valid.Contains(l)) continue;
            long c = HardwareModel.LayerCycles(layer, l);
            if (c >= cycles) break;
            lanes.Add(l);
            cycles = c;
        }
        return lanes.ToArray();
    }

    /// <summary>The hardware layer that owns a model layer's buffer (a fused layer's producer), by the layer's name.</summary>
    public int OwnerOf(string layerName) => _owner[_index[layerName]];

    public LayerOption Option(IReadOnlyList<int> genome, int layer) => Layers[layer][genome[layer]];

    /// <summary>The bits of every model layer (fused layers take their producer's) in a design.</summary>
    public LayerBits Bits(IReadOnlyList<int> genome, int modelLayer)
    {
        var o = Option(genome, _owner[modelLayer]);
        return new LayerBits(o.WeightBits == 0 ? WidestBits : o.WeightBits, o.ActivationBits);
    }

    /// <summary>The plan of a design: every choice explicit, as explore.props writes it.</summary>
    public LayerPlan Plan(IReadOnlyList<int> genome)
    {
        return LayerPlan.From(LayerNames, name =>
        {
            int i = _index[name];
            var o = Option(genome, _owner[i]);
            return new LayerChoice(Bits(genome, i), o.Buffer, o.Lanes, o.Multiplier, LanesExplicit: true, Weights: _weights(name));
        });
    }

    /// <summary>A design from a plan, or null when one of its choices is not in the space.</summary>
    /// <param name="effective">The buffer memory each layer really gets (an Auto buffer resolved), by layer name.</param>
    public int[]? Genome(LayerPlan plan, Func<string, BufferResource> effective)
    {
        var genome = new int[Layers.Count];
        foreach (var l in Layers)
        {
            var c = plan[l.Name];
            var option = new LayerOption(l.HasWeightBits ? c.Bits.WeightBits : 0, c.Bits.ActivationBits, effective(l.Name),
                HardwareModel.Lanes(l.Layer, c), c.Multiplier == MultiplierMapping.Lut && l.Multipliers.Count > 1 ? MultiplierMapping.Lut : MultiplierMapping.Dsp);
            int index = l.IndexOf(option);
            if (index < 0) return null;
            genome[l.Index] = index;
        }
        return genome;
    }

    /// <summary>A key equal for designs with the same bits everywhere (and so the same simulated error).</summary>
    public string BitsKey(IReadOnlyList<int> genome)
    {
        var sb = new StringBuilder();
        foreach (var l in Layers)
        {
            var o = l[genome[l.Index]];
            sb.Append(o.WeightBits.ToString(CultureInfo.InvariantCulture)).Append('/').Append(o.ActivationBits.ToString(CultureInfo.InvariantCulture)).Append(';');
        }
        return sb.ToString();
    }
}
