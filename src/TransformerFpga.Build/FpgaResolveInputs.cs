using System.Globalization;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Build;

/// <summary>
/// Lists what FpgaGenerate depends on, for its Inputs: the files the model reads
/// (<see cref="FpgaBuild.InputFiles"/>), the calibration reports or files (<see cref="FpgaBuild.CalibrationInputFiles"/>, <see cref="FpgaBuild.PowerCalibrationInputFiles"/>), and a text description of every item with all its metadata and
/// every Fpga* property (written to a state file whose content changes exactly when the configuration does).
/// Never fails: a missing model or a wrong item count is reported by FpgaGenerate (TFPGA001, TFPGA020).
/// </summary>
public sealed class FpgaResolveInputs : Microsoft.Build.Utilities.Task
{
    /// <summary>The TransformerModel item(s); 0 or several are tolerated here.</summary>
    public ITaskItem[] Models { get; set; } = [];

    public ITaskItem[] Precisions { get; set; } = [];
    public ITaskItem[] Buffers { get; set; } = [];
    public ITaskItem[] Parallelism { get; set; } = [];
    public ITaskItem[] WeightResources { get; set; } = [];

    /// <summary>$(MSBuildProjectFullPath), to find fpga-calibration.json beside it.</summary>
    public string ProjectFile { get; set; } = "";

    /// <summary>$(FpgaCalibrationReport), relative to the project folder; empty = none.</summary>
    public string CalibrationReport { get; set; } = "";

    /// <summary>$(FpgaPowerReport), relative to the project folder; empty = none.</summary>
    public string PowerReport { get; set; } = "";

    /// <summary>Properties as items: ItemSpec = name, metadata Value = value.</summary>
    public ITaskItem[] Properties { get; set; } = [];

    [Output] public ITaskItem[] InputFiles { get; private set; } = [];

    [Output] public string[] StateLines { get; private set; } = [];

    public override bool Execute()
    {
        var files = new List<string>();
        foreach (var model in Models)
        {
            string path = TaskItems.FullPath(model);
            try
            {
                if (File.Exists(path)) files.AddRange(FpgaBuild.InputFiles(path));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                // Best effort; FpgaGenerate runs anyway and reports the problem with a code.
            }
        }
        if (ProjectFile.Length > 0)
        {
            files.AddRange(FpgaBuild.CalibrationInputFiles(ProjectFile, CalibrationReport));
            files.AddRange(FpgaBuild.PowerCalibrationInputFiles(ProjectFile, PowerReport));
            files.AddRange(FpgaBuild.FineTunedInputFiles(ProjectFile));
        }
        InputFiles = files.Distinct(StringComparer.Ordinal).Select(f => (ITaskItem)new TaskItem(f)).ToArray();

        var lines = new List<string>();
        // The list itself is state: when a file the model names disappears, it drops out of the list,
        // so the state file changes and the next build runs (and reports the missing file).
        foreach (var item in InputFiles)
            lines.Add("input " + Quote(item.ItemSpec));
        foreach (var p in Properties)
            lines.Add("property " + p.ItemSpec + "=" + Quote(p.GetMetadata("Value")));
        void AddItems(string type, ITaskItem[] items)
        {
            for (int i = 0; i < items.Length; i++)
            {
                var sb = new StringBuilder();
                sb.Append(type).Append(' ').Append(i.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(Quote(items[i].ItemSpec));
                foreach (var (key, value) in TaskItems.CustomMetadata(items[i]))
                    sb.Append(' ').Append(key).Append('=').Append(Quote(value));
                lines.Add(sb.ToString());
            }
        }
        AddItems("TransformerModel", Models);
        AddItems("LayerPrecision", Precisions);
        AddItems("BufferResource", Buffers);
        AddItems("LayerParallelism", Parallelism);
        AddItems("WeightResource", WeightResources);
        StateLines = lines.ToArray();
        return true;
    }

    /// <summary>A one-line, unambiguous rendering (MSBuild writes the lines back verbatim).</summary>
    private static string Quote(string value)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in value)
        {
            switch (c)
            {
                case '\\': sb.Append(@"\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\n': sb.Append(@"\n"); break;
                case '\r': sb.Append(@"\r"); break;
                default: sb.Append(c); break;
            }
        }
        return sb.Append('"').ToString();
    }
}
