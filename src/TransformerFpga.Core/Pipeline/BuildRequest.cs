namespace TransformerFpga.Pipeline;

/// <summary>An MSBuild item as the user wrote it: the layer-name pattern (Include) and its raw metadata.</summary>
public sealed record LayerItem(string Pattern, IReadOnlyDictionary<string, string> Metadata)
{
    public string? Get(string name) => Metadata.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
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
    /// <summary>Absolute output folder (SPEC §7 layout below it).</summary>
    public required string OutputDir { get; init; }
    /// <summary>Top entity name; empty = from the model name.</summary>
    public string? TopName { get; init; }
    /// <summary>Vivado `report_utilization -hierarchical` output to calibrate the estimate to (relative to the project folder); empty = none.</summary>
    public string? CalibrationReport { get; init; }
    /// <summary>@(FpgaConstraints): the user's XDC files (pins, I/O standards), relative to the project folder or absolute; none = out-of-context Vivado flow.</summary>
    public IReadOnlyList<string> BoardConstraints { get; init; } = [];
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
}
