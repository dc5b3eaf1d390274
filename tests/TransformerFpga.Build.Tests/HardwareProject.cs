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

/// <summary>A throw-away hardware project with a small random model (d=8, window 8, 2 features).</summary>
public sealed class HardwareProject
{
    public const int Window = 8;
    public const int DModel = 8;
    public const int Ffn = 16;
    public const int TestRows = 40;
    public const int CalibrationRows = 64;
    public const string Target = "temperature";

    public HardwareProject(Consumption consumption, string name)
    {
        Consumption = consumption;
        Directory = Path.Combine(Packages.Root, "projects", name + "-" + consumption);
        if (System.IO.Directory.Exists(Directory)) System.IO.Directory.Delete(Directory, true);
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "model"));
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "data"));
        ProjectFile = Path.Combine(Directory, name + ".csproj");
        WriteModel(seed: name.GetHashCode(StringComparison.Ordinal) & 0x7fff);
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

    /// <summary>Writes the project file: <paramref name="items"/> and <paramref name="properties"/> are raw XML.</summary>
    public HardwareProject WriteProject(string items = "", string properties = "")
    {
        string models = """<TransformerModel Include="model/m.json" />""";
        string xml = Consumption switch
        {
            Consumption.PackageReference => $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <EnableDefaultItems>false</EnableDefaultItems>
                    {properties}
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="TransformerFpga.Build" Version="{Packages.Version}" />
                  </ItemGroup>
                  <ItemGroup>
                    {models}
                    {items}
                  </ItemGroup>
                </Project>
                """,
            _ => $"""
                <Project Sdk="TransformerFpga.Build.Sdk/{Packages.Version}">
                  <PropertyGroup>
                    {properties}
                  </PropertyGroup>
                  <ItemGroup>
                    {models}
                    {items}
                  </ItemGroup>
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

    private void WriteModel(int seed)
    {
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
            tensors[name + ".weight"] = new Tensor([DModel], Enumerable.Range(0, DModel).Select(_ => 1 + Gaussian(0.1)).ToArray());
            tensors[name + ".bias"] = new Tensor([DModel], Enumerable.Range(0, DModel).Select(_ => Gaussian(0.1)).ToArray());
            tensors[name + ".running_mean"] = new Tensor([DModel], Enumerable.Range(0, DModel).Select(_ => Gaussian(0.2)).ToArray());
            tensors[name + ".running_var"] = new Tensor([DModel], Enumerable.Range(0, DModel).Select(_ => (float)(0.5 + random.NextDouble())).ToArray());
        }
        Linear("embedding", DModel, 2);
        foreach (string p in new[] { "q", "k", "v", "out" }) Linear("encoder.0.attn." + p, DModel, DModel);
        BatchNorm("encoder.0.norm1");
        Linear("encoder.0.ffn.fc1", Ffn, DModel);
        Linear("encoder.0.ffn.fc2", DModel, Ffn);
        BatchNorm("encoder.0.norm2");
        Linear("head", 1, DModel);
        File.WriteAllBytes(Weights, SafeTensors.Serialize(tensors));

        File.WriteAllText(ModelJson, $$"""
            {
              "format": "transformer-fpga/1",
              "name": "m",
              "weights": "m.safetensors",
              "window": {{Window}}, "inputFeatures": 2, "outputFeatures": 1,
              "dModel": {{DModel}}, "heads": 1, "ffnDim": {{Ffn}}, "encoderLayers": 1,
              "norm": "batch", "activation": "relu", "positionalEncoding": "sinusoidal", "pooling": "average",
              "data": {
                "calibration": "../data/calib.csv", "test": "../data/test.csv",
                "inputColumns": ["pressure", "{{Target}}"], "targetColumns": ["{{Target}}"],
                "normalization": { "mean": [1015.0, 12.0], "std": [6.0, 5.0] }
              }
            }
            """);
        WriteCsv(Path.Combine(Directory, "data", "calib.csv"), CalibrationRows, 0);
        WriteCsv(TestCsv, TestRows, CalibrationRows);
    }

    private static void WriteCsv(string path, int rows, int offset)
    {
        var sb = new StringBuilder("hour,pressure," + Target + "\n");
        for (int i = 0; i < rows; i++)
        {
            int t = i + offset;
            double pressure = 1015 + 5 * Math.Sin(t / 13.0);
            double temperature = 12 + 6 * Math.Sin(2 * Math.PI * t / 24) + 0.5 * Math.Cos(t / 7.0);
            sb.Append(t.ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(pressure.ToString("F2", CultureInfo.InvariantCulture)).Append(',')
              .Append(temperature.ToString("F2", CultureInfo.InvariantCulture)).Append('\n');
        }
        File.WriteAllText(path, sb.ToString());
    }
}
