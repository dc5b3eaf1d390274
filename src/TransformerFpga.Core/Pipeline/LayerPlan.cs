using System.Globalization;
using System.Text.RegularExpressions;
using TransformerFpga.Diagnostics;
using TransformerFpga.Integer;

namespace TransformerFpga.Pipeline;

public enum BufferResource { Auto, Block, Distributed }

public enum MultiplierMapping { Auto, Dsp, Lut }

/// <summary>The resolved per-layer choices: bits, buffer memory, lanes, multiplier mapping and the memory of the weights.</summary>
/// <param name="LanesExplicit">
/// True when <see cref="Lanes"/> comes from a LayerParallelism item: lanes that do not divide the layer's
/// parallel dimension are then an error (TFPGA024). Default lanes (FpgaDefaultLanes) are forgiving: the
/// hardware uses the largest divisor not above them.
/// </param>
/// <param name="Weights">Where a linear layer's weight ROM goes: Auto = synthesis' own cost rule (block RAM when cheaper than LUTs).</param>
public sealed record LayerChoice(LayerBits Bits, BufferResource Buffer, int Lanes, MultiplierMapping Multiplier, bool LanesExplicit = false,
    BufferResource Weights = BufferResource.Auto);

/// <summary>The Engine architecture's array: its MAC lanes (a power of two) and whether they are LUT multipliers instead of DSP48E1.</summary>
/// <param name="LanesExplicit">
/// The project set the lanes; when it did not, <see cref="Lanes"/> is the most the model allows and the build takes
/// the most, up to that, with which the design fits (<see cref="Hardware.AutoMapping.ResolveEngineLanes"/>).
/// </param>
/// <param name="LutLanes">Lanes whose multipliers are LUTs, the rest DSP48E1 (all of them with <see cref="LutMultipliers"/>).</param>
/// <param name="Weights">The memory of the engine's weight ROM; Auto leaves it to synthesis' cost rule.</param>
public sealed record EngineSettings(int Lanes, bool LutMultipliers = false, bool LanesExplicit = true, int LutLanes = 0, BufferResource Weights = BufferResource.Auto);

/// <summary>One metadata an item sets and the layers it selects, for the check that it changes something.</summary>
public sealed record ItemSetting(string ItemType, string Identity, string Metadata, IReadOnlyList<string> Layers);

/// <summary>
/// Resolves the LayerPrecision / BufferResource / LayerParallelism / WeightResource items over the layer names: defaults first,
/// then every item in order (later items win). Which layers an item selects is <see cref="LayerSelection"/>'s rule.
/// </summary>
public sealed class LayerPlan
{
    public const int MinBits = 2, MaxBits = 16, MaxLanes = 64;

    private readonly Dictionary<string, LayerChoice> _choices;

    private LayerPlan(IReadOnlyList<string> layers, Dictionary<string, LayerChoice> choices, IReadOnlyList<ItemSetting> settings)
    {
        LayerNames = layers;
        _choices = choices;
        ItemSettings = settings;
    }

    public IReadOnlyList<string> LayerNames { get; }

    /// <summary>The shared MAC engine's settings when the architecture is Engine; null for one datapath per layer (Layers).</summary>
    public EngineSettings? Engine { get; private init; }

    /// <summary>A plan of the same layers and architecture with other choices (the items' settings are not carried over).</summary>
    public LayerPlan With(Func<string, LayerChoice> choose) => new(LayerNames, LayerNames.ToDictionary(l => l, choose, StringComparer.Ordinal), []) { Engine = Engine };

    /// <summary>This plan with the given architecture: an engine, or null for Layers.</summary>
    public LayerPlan WithEngine(EngineSettings? engine) => new(LayerNames, _choices, ItemSettings) { Engine = engine };
    public LayerChoice this[string layer] => _choices[layer];
    public LayerBits Bits(string layer) => _choices[layer].Bits;

    /// <summary>Every setting the project's items made, in item order (none for a plan made by <see cref="From"/>).</summary>
    public IReadOnlyList<ItemSetting> ItemSettings { get; }

    public static LayerPlan Resolve(IReadOnlyList<string> layers, BuildRequest request, string projectFile)
    {
        var s = request.Settings;
        int defaultWeight = ParseBits(s.DefaultWeightBits, "FpgaDefaultWeightBits", projectFile);
        int defaultActivation = ParseBits(s.DefaultActivationBits, "FpgaDefaultActivationBits", projectFile);
        var defaultBuffer = ParseResource(s.DefaultBufferResource, "FpgaDefaultBufferResource", projectFile);
        int defaultLanes = ParseLanes(s.DefaultLanes, "FpgaDefaultLanes", projectFile);
        var choices = layers.ToDictionary(l => l, _ => new LayerChoice(new LayerBits(defaultWeight, defaultActivation), defaultBuffer, defaultLanes, MultiplierMapping.Auto), StringComparer.Ordinal);
        var settings = new List<ItemSetting>();
        LayerSelection.CheckProjectFileWildcards(projectFile);

        IReadOnlyList<string> Selected(string itemType, LayerItem item)
        {
            var selected = LayerSelection.Select(layers, itemType, item, projectFile);
            foreach (string metadata in LayerSelection.ItemTypes[itemType].Where(m => item.Get(m) is not null))
                settings.Add(new ItemSetting(itemType, item.Pattern.Trim(), metadata, selected));
            return selected;
        }

        foreach (var item in request.Precisions)
            AtItemLine(projectFile, "LayerPrecision", item.Pattern, () =>
            {
                LayerSelection.CheckMetadata("LayerPrecision", item, projectFile);
                int? weight = item.Get("WeightBits") is { } wb ? ParseBits(wb, $"WeightBits of LayerPrecision '{item.Pattern}'", projectFile) : null;
                int? activation = item.Get("ActivationBits") is { } ab ? ParseBits(ab, $"ActivationBits of LayerPrecision '{item.Pattern}'", projectFile) : null;
                foreach (var layer in Selected("LayerPrecision", item))
                {
                    var c = choices[layer];
                    choices[layer] = c with { Bits = new LayerBits(weight ?? c.Bits.WeightBits, activation ?? c.Bits.ActivationBits) };
                }
            });
        foreach (var item in request.Buffers)
            AtItemLine(projectFile, "BufferResource", item.Pattern, () =>
            {
                LayerSelection.CheckMetadata("BufferResource", item, projectFile);
                string raw = item.Get("Resource") ?? throw new FpgaException(ErrorCodes.InvalidBufferResource, projectFile, $"BufferResource '{item.Pattern}' has no Resource metadata; set Resource=\"Block\", \"Distributed\" or \"Auto\"");
                var resource = ParseResource(raw, $"Resource of BufferResource '{item.Pattern}'", projectFile);
                foreach (var layer in Selected("BufferResource", item))
                    choices[layer] = choices[layer] with { Buffer = resource };
            });
        foreach (var item in request.Parallelism)
            AtItemLine(projectFile, "LayerParallelism", item.Pattern, () =>
            {
                LayerSelection.CheckMetadata("LayerParallelism", item, projectFile);
                int? lanes = item.Get("Lanes") is { } l ? ParseLanes(l, $"Lanes of LayerParallelism '{item.Pattern}'", projectFile) : null;
                MultiplierMapping? multiplier = item.Get("Multiplier") is { } m ? ParseMultiplier(m, item.Pattern, projectFile) : null;
                foreach (var layer in Selected("LayerParallelism", item))
                {
                    var c = choices[layer];
                    choices[layer] = c with { Lanes = lanes ?? c.Lanes, LanesExplicit = c.LanesExplicit || lanes is not null, Multiplier = multiplier ?? c.Multiplier };
                }
            });
        foreach (var item in request.WeightResources)
            AtItemLine(projectFile, "WeightResource", item.Pattern, () =>
            {
                LayerSelection.CheckMetadata("WeightResource", item, projectFile);
                string raw = item.Get("Resource") ?? throw new FpgaException(ErrorCodes.InvalidBufferResource, projectFile, $"WeightResource '{item.Pattern}' has no Resource metadata; set Resource=\"Block\", \"Distributed\" or \"Auto\"");
                var resource = ParseResource(raw, $"Resource of WeightResource '{item.Pattern}'", projectFile);
                foreach (var layer in Selected("WeightResource", item))
                    choices[layer] = choices[layer] with { Weights = resource };
            });
        return new LayerPlan(layers, choices, settings);
    }

    /// <summary>Runs one item's resolution; an error about it points at the item's line in the project file.</summary>
    private static void AtItemLine(string projectFile, string itemType, string pattern, Action resolve)
    {
        try { resolve(); }
        catch (FpgaException e) when (e.Line == 0 && e.File == projectFile)
        {
            throw new FpgaException(e.Code, e.File, ItemLine(projectFile, itemType, pattern), e.Message);
        }
    }

    /// <summary>
    /// 1-based line of &lt;itemType Include="pattern"&gt; in the project file (wildcards may be written
    /// escaped), or 0 when the item comes from elsewhere (an import, a property).
    /// </summary>
    internal static int ItemLine(string projectFile, string itemType, string pattern)
    {
        string[] lines;
        try { lines = File.ReadAllLines(projectFile); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) { return 0; }
        string escaped = pattern.Replace("*", "%2A").Replace("?", "%3F");
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            if (!line.Contains("<" + itemType, StringComparison.Ordinal)) continue;
            foreach (string form in new[] { pattern, escaped, escaped.Replace("%2A", "%2a").Replace("%3F", "%3f") })
                if (line.Contains("Include=\"" + form + "\"", StringComparison.Ordinal) || line.Contains("Include='" + form + "'", StringComparison.Ordinal))
                    return i + 1;
        }
        return 0;
    }

    /// <summary>A plan with explicit choices (used by tests and the search).</summary>
    public static LayerPlan From(IReadOnlyList<string> layers, Func<string, LayerChoice> choose) =>
        new(layers, layers.ToDictionary(l => l, choose, StringComparer.Ordinal), []);

    /// <summary>Checks the choices against the model's sizes: explicit lanes must divide the layer's parallel dimension (TFPGA024).</summary>
    public void ValidateLanes(IntegerTransformer model, string projectFile) => Hdl.HardwareModel.ValidateLanes(model, this, projectFile);

    public static int ParseBits(string raw, string what, string projectFile)
    {
        if (!int.TryParse(raw.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int bits) || bits < MinBits || bits > MaxBits)
            throw new FpgaException(ErrorCodes.InvalidBits, projectFile, $"{what} is '{raw}'; use a whole number of bits from {MinBits} to {MaxBits}");
        return bits;
    }

    public static BufferResource ParseResource(string raw, string what, string projectFile) => raw.Trim() switch
    {
        var r when r.Equals("Block", StringComparison.OrdinalIgnoreCase) => BufferResource.Block,
        var r when r.Equals("Distributed", StringComparison.OrdinalIgnoreCase) => BufferResource.Distributed,
        var r when r.Equals("Auto", StringComparison.OrdinalIgnoreCase) => BufferResource.Auto,
        _ => throw new FpgaException(ErrorCodes.InvalidBufferResource, projectFile, $"{what} is '{raw}'; use Block, Distributed or Auto"),
    };

    public static int ParseLanes(string raw, string what, string projectFile)
    {
        if (!int.TryParse(raw.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int lanes) || lanes < 1 || lanes > MaxLanes)
            throw new FpgaException(ErrorCodes.InvalidLanes, projectFile, $"{what} is '{raw}'; use a whole number of MAC lanes from 1 to {MaxLanes}");
        return lanes;
    }

    private static MultiplierMapping ParseMultiplier(string raw, string pattern, string projectFile) => raw.Trim().ToLowerInvariant() switch
    {
        "dsp" => MultiplierMapping.Dsp,
        "lut" => MultiplierMapping.Lut,
        "auto" => MultiplierMapping.Auto,
        _ => throw new FpgaException(ErrorCodes.InvalidLanes, projectFile, $"Multiplier of LayerParallelism '{pattern}' is '{raw}'; use Dsp, Lut or Auto"),
    };
}
