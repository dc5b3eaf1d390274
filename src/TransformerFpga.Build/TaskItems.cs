using System.Collections;
using Microsoft.Build.Framework;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Build;

/// <summary>Conversions from MSBuild items to the domain's request types.</summary>
internal static class TaskItems
{
    /// <summary>
    /// An item as the user wrote it: ItemSpec is already unescaped by MSBuild, so `%2A` arrives as `*`.
    /// Only custom metadata is kept (not FullPath, Identity, ...), in a stable order. A RecursiveDir betrays
    /// an item MSBuild made from a `**` file glob; the pipeline reports it (TFPGA028).
    /// </summary>
    public static LayerItem ToLayerItem(ITaskItem item) =>
        new(item.ItemSpec, CustomMetadata(item)) { FromFileWildcard = !string.IsNullOrEmpty(item.GetMetadata("RecursiveDir")) };

    public static IReadOnlyList<LayerItem> ToLayerItems(ITaskItem[]? items) =>
        (items ?? []).Select(ToLayerItem).ToList();

    public static SortedDictionary<string, string> CustomMetadata(ITaskItem item)
    {
        var result = new SortedDictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry entry in item.CloneCustomMetadata())
        {
            if (entry.Key is string key)
                result[key] = entry.Value as string ?? "";
        }
        return result;
    }

    /// <summary>The full path of a file item, or its spec when it is not a valid path (the pipeline reports that).</summary>
    public static string FullPath(ITaskItem item)
    {
        string full = item.GetMetadata("FullPath");
        return string.IsNullOrEmpty(full) ? item.ItemSpec : full;
    }
}
