using System.Text.RegularExpressions;
using System.Xml;
using TransformerFpga.Diagnostics;

namespace TransformerFpga.Pipeline;

/// <summary>
/// The items that set per-layer choices: their metadata, and which layers an item selects. An item selects
/// by its Include, a layer name or a dotted prefix (`encoder0.ffn` is every layer under it), or, when it has
/// a `Layers` metadata, by that list of patterns separated by `;` (`*` any text, `?` one character), which
/// MSBuild never expands as a file glob. An Include written with escaped wildcards (`%2A`, `%3F`) is a pattern too.
/// </summary>
public static class LayerSelection
{
    public const string LayersMetadata = "Layers";

    /// <summary>Each item type and the metadata that set its choices, in the order the messages list them.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> ItemTypes = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
    {
        ["LayerPrecision"] = ["WeightBits", "ActivationBits"],
        ["BufferResource"] = ["Resource"],
        ["LayerParallelism"] = ["Lanes", "Multiplier"],
        ["WeightResource"] = ["Resource"],
    };

    /// <summary>MSBuild's well-known item metadata: every item has them, so they are never a user's typo.</summary>
    private static readonly HashSet<string> WellKnownMetadata = new(StringComparer.OrdinalIgnoreCase)
    {
        "FullPath", "RootDir", "Filename", "Extension", "RelativeDir", "Directory", "RecursiveDir", "Identity", "ModifiedTime",
        "CreatedTime", "AccessedTime", "DefiningProjectFullPath", "DefiningProjectDirectory", "DefiningProjectName", "DefiningProjectExtension",
    };

    /// <summary>Throws TFPGA029 for a metadata the item type does not know, with the closest known name.</summary>
    public static void CheckMetadata(string itemType, LayerItem item, string projectFile)
    {
        var known = ItemTypes[itemType].Append(LayersMetadata).ToList();
        foreach (string name in item.Metadata.Keys.OrderBy(k => k, StringComparer.Ordinal))
        {
            if (WellKnownMetadata.Contains(name) || known.Contains(name, StringComparer.OrdinalIgnoreCase)) continue;
            throw new FpgaException(ErrorCodes.UnknownItemMetadata, projectFile,
                $"{itemType} '{item.Pattern}' has an unknown metadata {name}{Suggestions.DidYouMean(name, known)}; {itemType} takes {string.Join(", ", known)}");
        }
    }

    /// <summary>
    /// The layers an item selects, in layer order. Throws TFPGA028 when the item is the result of MSBuild
    /// expanding a file glob, and TFPGA021 when the item (or one of its Layers patterns) selects no layer.
    /// </summary>
    public static IReadOnlyList<string> Select(IReadOnlyList<string> layers, string itemType, LayerItem item, string projectFile)
    {
        string identity = item.Pattern.Trim();
        if (item.Get(LayersMetadata) is { } patterns)
        {
            // The Include is only a label here, but MSBuild still expands a wildcard in it.
            if (item.FromFileWildcard || NamesProjectFile(identity, projectFile)) throw ExpandedGlob(itemType, identity, projectFile);
            var selected = new HashSet<string>(StringComparer.Ordinal);
            foreach (string pattern in patterns.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var matches = Matches(layers, pattern);
                if (matches.Count == 0)
                    throw new FpgaException(ErrorCodes.ItemMatchesNoLayer, projectFile,
                        $"{itemType} '{identity}': Layers pattern '{pattern}' matches no layer; layer names are {string.Join(", ", layers)}");
                selected.UnionWith(matches);
            }
            if (selected.Count == 0)
                throw new FpgaException(ErrorCodes.ItemMatchesNoLayer, projectFile, $"{itemType} '{identity}' has an empty Layers metadata; list layer patterns separated by ';'");
            return layers.Where(selected.Contains).ToList();
        }

        var byInclude = Matches(layers, identity);
        if (byInclude.Count > 0 && !item.FromFileWildcard) return byInclude;
        if (item.FromFileWildcard || NamesProjectFile(identity, projectFile)) throw ExpandedGlob(itemType, identity, projectFile);
        throw new FpgaException(ErrorCodes.ItemMatchesNoLayer, projectFile,
            $"{itemType} '{identity}' matches no layer; Include is a layer name or a dotted prefix of layer names (such as encoder0.ffn), and patterns go in a Layers metadata (Layers=\"encoder*.ffn.*\"); layer names are {string.Join(", ", layers)}");
    }

    /// <summary>
    /// The layers a selector names: with `*` or `?` a pattern over the whole name, otherwise the layer of that
    /// name and every layer under it as a dotted prefix (`encoder0` selects encoder0.attn.q but not encoder01.…).
    /// </summary>
    public static IReadOnlyList<string> Matches(IReadOnlyList<string> layers, string selector)
    {
        selector = selector.Trim();
        if (selector.Length == 0) return [];
        if (selector.IndexOfAny(['*', '?']) >= 0)
        {
            var pattern = new Regex("^" + Regex.Escape(selector).Replace("\\*", ".*").Replace("\\?", ".") + "$", RegexOptions.CultureInvariant);
            return layers.Where(l => pattern.IsMatch(l)).ToList();
        }
        return layers.Where(l => l == selector || l.StartsWith(selector + ".", StringComparison.Ordinal)).ToList();
    }

    /// <summary>
    /// Throws TFPGA028 for the first item of these types in the project file whose Include holds an unescaped
    /// `*` or `?`: MSBuild expands it as a file glob before the build sees it, into one item per matching
    /// file, or into nothing at all. Items from imported files are caught by <see cref="Select"/> when they
    /// name a file, and vanish unseen otherwise.
    /// </summary>
    public static void CheckProjectFileWildcards(string projectFile)
    {
        string text;
        try { text = File.ReadAllText(projectFile); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException) { return; }
        try
        {
            using var reader = XmlReader.Create(new StringReader(text), new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            while (reader.Read())
            {
                if (reader.NodeType != XmlNodeType.Element || !ItemTypes.ContainsKey(reader.LocalName)) continue;
                string? include = reader.GetAttribute("Include");
                if (include is null || include.IndexOfAny(['*', '?']) < 0) continue;
                int line = ((IXmlLineInfo)reader).LineNumber;
                string escaped = include.Replace("*", "%2A", StringComparison.Ordinal).Replace("?", "%3F", StringComparison.Ordinal);
                throw new FpgaException(ErrorCodes.ItemExpandedAsFileGlob, projectFile, line,
                    $"{reader.LocalName} Include=\"{include}\": MSBuild expands a * or ? in an Include as a file glob, so this item becomes one item per "
                    + $"matching file of the project folder, or vanishes when no file matches. {Fix(include)} or escape the wildcards (Include=\"{escaped}\")");
            }
        }
        catch (XmlException)
        {
            // MSBuild has read the file; a reader that cannot is no reason to fail the build.
        }
    }

    private static FpgaException ExpandedGlob(string itemType, string identity, string projectFile) =>
        new(ErrorCodes.ItemExpandedAsFileGlob, projectFile,
            $"{itemType} '{identity}' is a file of the project folder, not a layer: MSBuild expanded a * or ? in the item's Include as a file glob "
            + $"(one item per matching file; with no matching file the item vanishes). {Fix("encoder*.ffn.*")} or escape the wildcards as %2A and %3F");

    private static string Fix(string pattern) =>
        $"Select layers by name or dotted prefix (Include=\"encoder0.ffn\"), or give the pattern as metadata, which MSBuild never expands (Include=\"my-layers\" Layers=\"{pattern}\")";

    private static bool NamesProjectFile(string identity, string projectFile)
    {
        try
        {
            string directory = Path.GetDirectoryName(Path.GetFullPath(projectFile))!;
            return identity.Length > 0 && File.Exists(Path.Combine(directory, identity));
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return false;
        }
    }
}
