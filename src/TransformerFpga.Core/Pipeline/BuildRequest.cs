namespace TransformerFpga.Pipeline;

/// <summary>
/// An MSBuild item as the user wrote it: its identity (Include: a layer name, a dotted prefix, an escaped
/// pattern, or a label when the item has a Layers metadata) and its custom metadata.
/// </summary>
public sealed record LayerItem(string Pattern, IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>
    /// True when MSBuild made the item by expanding a file wildcard (it carries a RecursiveDir, which only
    /// a `**` expansion sets): the identity is then a file of the project, not what the user wrote.
    /// </summary>
    public bool FromFileWildcard { get; init; }

    /// <summary>The trimmed value of a metadata, found without regard to case as MSBuild does; null when absent or blank.</summary>
    public string? Get(string name)
    {
        if (!Metadata.TryGetValue(name, out var value))
            value = Metadata.FirstOrDefault(m => string.Equals(m.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }
}

/// <summary>The Fpga* properties, raw as MSBuild passes them; validated by the pipeline (TFPGA026).</summary>
public sealed record BuildSettings
{
    public string Part { get; init; } = "xc7s15ftgb196-1";
    public string ClockMHz { get; init; } = "100";
    public string DefaultWeightBits { get; init; } = "8";
    public string DefaultActivationBits { get; init; } = "8";
    public string DefaultBufferResource { get; init; } = "Auto";
    public string DefaultLanes { get; init; } = "1";
    public string UtilizationLimitPercent { get; init; } = "100";
    public bool BudgetAsWarning { get; init; }
    /// <summary>Absolute output folder (report/, hdl/, yosys/ and vivado/ below it).</summary>
    public required string OutputDir { get; init; }
    /// <summary>Top entity name; empty = from the model name.</summary>
    public string? TopName { get; init; }
    /// <summary>Vivado `report_utilization -hierarchical` output to calibrate the estimate to (relative to the project folder); empty = none.</summary>
    public string? CalibrationReport { get; init; }
    /// <summary>Vivado `report_power` output to calibrate the power model to (relative to the project folder); empty = none.</summary>
    public string? PowerReport { get; init; }
    /// <summary>@(FpgaConstraints): the user's XDC files (pins, I/O standards), relative to the project folder or absolute; none = out-of-context Vivado flow.</summary>
    public IReadOnlyList<string> BoardConstraints { get; init; } = [];
    /// <summary>FpgaArchitecture: `Engine` (one shared MAC engine, the default) or `Layers` (one datapath per layer).</summary>
    public string Architecture { get; init; } = "Engine";
    /// <summary>FpgaEngineLanes: the MAC lanes of the Engine architecture; empty = not set.</summary>
    public string EngineLanes { get; init; } = "";
}

public sealed record BuildRequest(
    string ProjectFile,
    IReadOnlyList<string> ModelItems,
    IReadOnlyList<LayerItem> Precisions,
    IReadOnlyList<LayerItem> Buffers,
    IReadOnlyList<LayerItem> Parallelism,
    BuildSettings Settings)
{
    public string ProjectDirectory => Path.GetDirectoryName(Path.GetFullPath(ProjectFile))!;

    /// <summary>@(WeightResource): the memory of layers' weights.</summary>
    public IReadOnlyList<LayerItem> WeightResources { get; init; } = [];
}
