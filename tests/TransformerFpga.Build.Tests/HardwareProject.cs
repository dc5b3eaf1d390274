using System.Globalization;
using System.Text;
using TransformerFpga.Model;

namespace TransformerFpga.Build.Tests;

public enum Consumption
{
    /// <summary>&lt;PackageReference Include="TransformerFpga.Build"&gt; in a Microsoft.NET.Sdk project.</summary>
    PackageReference,
    /// <summary>&lt;Project Sdk="TransformerFpga.Build.Sdk/version"&gt;.</summary>
    ProjectSdk,
}

/// <summary>
/// The random model and data of a <see cref="HardwareProject"/>. The defaults are the small model
/// (d=8, window 8, 2 features); names are written as JSON strings and CSV cells, so they can hold any text.
/// </summary>
public sealed record ModelShape
{
    public int Window { get; init; } = HardwareProject.Window;
    public int DModel { get; init; } = HardwareProject.DModel;
    public int Ffn { get; init; } = HardwareProject.Ffn;
    public int TestRows { get; init; } = HardwareProject.TestRows;
    public int CalibrationRows { get; init; } = HardwareProject.CalibrationRows;
    /// <summary>The model JSON's "name".</summary>
    public string ModelName { get; init; } = "m";
    /// <summary>The second input column, also the target column.</summary>
    public string TargetColumn { get; init; } = HardwareProject.Target;
    /// <summary>Seed of the weights; null = derived from the project name.</summary>
    public int? Seed { get; init; }
}

/// <summary>A throw-away hardware project with a random model, by default a small one (d=8, window 8, 2 features).</summary>
public sealed class HardwareProject
{
    public const int Window = 8;
    public const int DModel = 8;
    public const int Ffn = 16;
    public const int TestRows = 40;
    public const int CalibrationRows = 64;
    public const string Target = "temperature";

    /// <param name="parentDirectory">Folder the project folder is created in; default Root/projects.
    /// The project folder is <paramref name="name"/>-<paramref name="consumption"/> by default, or
    /// <paramref name="name"/> under a given <paramref name="parentDirectory"/>.</param>
    public HardwareProject(Consumption consumption, string name, ModelShape? shape = null, string? parentDirectory = null)
    {
        Consumption = consumption;
        Directory = parentDirectory is null
            ? Path.Combine(Packages.Root, "projects", name + "-" + consumption)
            : Path.Combine(parentDirectory, name);
        if (System.IO.Directory.Exists(Directory)) System.IO.Directory.Delete(Directory, true);
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "model"));
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "data"));
        ProjectFile = Path.Combine(Directory, name + ".csproj");
        shape ??= new ModelShape();
        WriteModel(shape, shape.Seed ?? (name.GetHashCode(StringComparison.Ordinal) & 0x7fff));
    }

    private HardwareProject(Consumption consumption, string directory, string projectFile)
    {
        Consumption = consumption;
        Directory = directory;
        ProjectFile = projectFile;
    }

    /// <summary>A byte-identical copy of the project's sources (not bin/ or obj/) in a folder of the same name under <paramref name="parentDirectory"/>.</summary>
    public HardwareProject CopyTo(string parentDirectory)
    {
        string directory = Path.Combine(parentDirectory, Path.GetFileName(Directory));
        if (System.IO.Directory.Exists(directory)) System.IO.Directory.Delete(directory, true);
        foreach (string file in System.IO.Directory.EnumerateFiles(Directory, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(Directory, file);
            string first = relative.Split(Path.DirectorySeparatorChar)[0];
            if (first is "bin" or "obj") continue;
            string target = Path.Combine(directory, relative);
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return new HardwareProject(Consumption, directory, Path.Combine(directory, Path.GetFileName(ProjectFile)));
    }

    public Consumption Consumption { get; }
    public string Directory { get; }
    public string ProjectFile { get; }
    public string ModelJson => Path.Combine(Directory, "model", "m.json");
    public string Weights => Path.Combine(Directory, "model", "m.safetensors");
    public string TestCsv => Path.Combine(Directory, "data", "test.csv");

    /// <summary>The folder FpgaGenerate writes to by default: $(OutDir)fpga/.</summary>
    public string OutputDir => Consumption == Consumption.PackageReference
        ? Path.Combine(Directory, "bin", "Debug", "net10.0", "fpga")
        : Path.Combine(Directory, "bin", "Debug", "fpga");

    /// <summary>Writes the project file: <paramref name="items"/>, <paramref name="properties"/> and <paramref name="imports"/> (after the items) are raw XML.</summary>
    /// <remarks>Budget overruns are warnings here: these tests are about the build, not about fitting the XC7S15 (the Core tests cover the gate).</remarks>
    public HardwareProject WriteProject(string items = "", string properties = "", string imports = "")
    {
        string models = """<TransformerModel Include="model/m.json" />""";
        string xml = Consumption switch
        {
            Consumption.PackageReference => $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <EnableDefaultItems>false</EnableDefaultItems>
                    <FpgaBudgetAsWarning>true</FpgaBudgetAsWarning>
                    {properties}
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="TransformerFpga.Build" Version="{Packages.Version}" />
                  </ItemGroup>
                  <ItemGroup>
                    {models}
                    {items}
                  </ItemGroup>
                  {imports}
                </Project>
                """,
            _ => $"""
                <Project Sdk="TransformerFpga.Build.Sdk/{Packages.Version}">
                  <PropertyGroup>
                    <FpgaBudgetAsWarning>true</FpgaBudgetAsWarning>
                    {properties}
                  </PropertyGroup>
                  <ItemGroup>
                    {models}
                    {items}
                  </ItemGroup>
                  {imports}
                </Project>
                """,
        };
        File.WriteAllText(ProjectFile, xml);
        return this;
    }

    public DotNetResult Build(params string[] args) =>
        DotNet.Run(Directory, TimeSpan.FromMinutes(5), ["build", ProjectFile, .. args]);

    public DotNetResult Clean(params string[] args) =>
        DotNet.Run(Directory, TimeSpan.FromMinutes(5), ["clean", ProjectFile, .. args]);

    private void WriteModel(ModelShape shape, int seed)
    {
        int dModel = shape.DModel, ffn = shape.Ffn;
        var random = new Random(seed);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        float Gaussian(double scale) => (float)(scale * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        void Linear(string name, int output, int input)
        {
            double scale = 1 / Math.Sqrt(input);
            tensors[name + ".weight"] = new Tensor([output, input], Enumerable.Range(0, output * input).Select(_ => Gaussian(scale)).ToArray());
            tensors[name + ".bias"] = new Tensor([output], Enumerable.Range(0, output).Select(_ => Gaussian(0.1)).ToArray());
        }
        void BatchNorm(string name)
        {
            tensors[name + ".weight"] = new Tensor([dModel], Enumerable.Range(0, dModel).Select(_ => 1 + Gaussian(0.1)).ToArray());
            tensors[name + ".bias"] = new Tensor([dModel], Enumerable.Range(0, dModel).Select(_ => Gaussian(0.1)).ToArray());
            tensors[name + ".running_mean"] = new Tensor([dModel], Enumerable.Range(0, dModel).Select(_ => Gaussian(0.2)).ToArray());
            tensors[name + ".running_var"] = new Tensor([dModel], Enumerable.Range(0, dModel).Select(_ => (float)(0.5 + random.NextDouble())).ToArray());
        }
        Linear("embedding", dModel, 2);
        foreach (string p in new[] { "q", "k", "v", "out" }) Linear("encoder.0.attn." + p, dModel, dModel);
        BatchNorm("encoder.0.norm1");
        Linear("encoder.0.ffn.fc1", ffn, dModel);
        Linear("encoder.0.ffn.fc2", dModel, ffn);
        BatchNorm("encoder.0.norm2");
        Linear("head", 1, dModel);
        File.WriteAllBytes(Weights, SafeTensors.Serialize(tensors));

        string name = JsonString(shape.ModelName), target = JsonString(shape.TargetColumn);
        File.WriteAllText(ModelJson, $$"""
            {
              "format": "transformer-fpga/1",
              "name": {{name}},
              "weights": "m.safetensors",
              "window": {{shape.Window}}, "inputFeatures": 2, "outputFeatures": 1,
              "dModel": {{dModel}}, "heads": 1, "ffnDim": {{ffn}}, "encoderLayers": 1,
              "norm": "batch", "activation": "relu", "positionalEncoding": "sinusoidal", "pooling": "average",
              "data": {
                "calibration": "../data/calib.csv", "test": "../data/test.csv",
                "inputColumns": ["pressure", {{target}}], "targetColumns": [{{target}}],
                "normalization": { "mean": [1015.0, 12.0], "std": [6.0, 5.0] }
              }
            }
            """, new UTF8Encoding(false));
        WriteCsv(Path.Combine(Directory, "data", "calib.csv"), shape.TargetColumn, shape.CalibrationRows, 0);
        WriteCsv(TestCsv, shape.TargetColumn, shape.TestRows, shape.CalibrationRows);
    }

    /// <summary>A JSON string literal; non-ASCII stays as UTF-8, quotes and control characters are escaped.</summary>
    private static string JsonString(string value) =>
        System.Text.Json.JsonSerializer.Serialize(value, new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    /// <summary>A CSV cell (RFC 4180): quoted when it holds a comma, a quote or a line break.</summary>
    private static string CsvCell(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;

    private static void WriteCsv(string path, string target, int rows, int offset)
    {
        var sb = new StringBuilder("hour,pressure," + CsvCell(target) + "\n");
        for (int i = 0; i < rows; i++)
        {
            int t = i + offset;
            double pressure = 1015 + 5 * Math.Sin(t / 13.0);
            double temperature = 12 + 6 * Math.Sin(2 * Math.PI * t / 24) + 0.5 * Math.Cos(t / 7.0);
            sb.Append(t.ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(pressure.ToString("F2", CultureInfo.InvariantCulture)).Append(',')
              .Append(temperature.ToString("F2", CultureInfo.InvariantCulture)).Append('\n');
        }
        File.WriteAllText(path, sb.ToString(), new UTF8Encoding(false));
    }
}
