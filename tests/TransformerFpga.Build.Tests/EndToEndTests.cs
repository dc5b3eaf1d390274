using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

[assembly: Parallelize(Workers = 4, Scope = ExecutionScope.MethodLevel)]

namespace TransformerFpga.Build.Tests;

/// <summary>`dotnet build` of hardware projects consuming the packed packages, both ways.</summary>
[TestClass]
public sealed class EndToEndTests
{
    internal const string SkipMessage = "Skipping target \"FpgaGenerate\" because all output files are up-to-date";

    private static readonly string Items = """
        <LayerPrecision Include="encoder0.ffn.%2A" WeightBits="8" ActivationBits="8" />
        <LayerPrecision Include="head" WeightBits="8" />
        """;

    [TestMethod]
    [DataRow(Consumption.PackageReference)]
    [DataRow(Consumption.ProjectSdk)]
    public void BuildWritesSimulationReportAndPredictions(Consumption consumption)
    {
        var project = new HardwareProject(consumption, "reports").WriteProject(Items);

        var result = project.Build();

        AssertSucceeded(result);
        AssertNoStackTrace(result.Output);
        AssertSimulationJson(Path.Combine(project.OutputDir, "report", "simulation.json"));
        AssertPredictionsCsv(Path.Combine(project.OutputDir, "report", "predictions.csv"));
    }

    [TestMethod]
    [DataRow(Consumption.PackageReference)]
    [DataRow(Consumption.ProjectSdk)]
    public void SecondBuildWithoutChangeSkipsTheTargetAndRewritesNothing(Consumption consumption)
    {
        var project = new HardwareProject(consumption, "incremental").WriteProject(Items);
        AssertSucceeded(project.Build());
        var before = Timestamps(project.OutputDir);
        Assert.IsTrue(before.Count >= 2, "no outputs written:\n" + string.Join("\n", before.Keys));

        var second = project.Build("-v:d");

        AssertSucceeded(second);
        StringAssert.Contains(second.Output, SkipMessage);
        CollectionAssert.AreEquivalent(before.ToList(), Timestamps(project.OutputDir).ToList(), "a no-change build rewrote outputs");
    }

    [TestMethod]
    [DataRow(Consumption.PackageReference)]
    [DataRow(Consumption.ProjectSdk)]
    public void ChangingMetadataPropertyOrDataRegenerates(Consumption consumption)
    {
        var project = new HardwareProject(consumption, "regenerate").WriteProject(Items);
        AssertSucceeded(project.Build());
        string simulation = Path.Combine(project.OutputDir, "report", "simulation.json");
        string before = File.ReadAllText(simulation);

        // An item's metadata value: fewer weight bits change the integer model's accuracy.
        project.WriteProject("""<LayerPrecision Include="encoder0.%2A" WeightBits="3" ActivationBits="4" />""");
        var metadata = project.Build("-v:d");
        AssertSucceeded(metadata);
        AssertRan(metadata, "LayerPrecision metadata change");
        Assert.AreNotEqual(before, File.ReadAllText(simulation), "simulation.json did not change with 3-bit weights");

        // No change: skipped again.
        var same = project.Build("-v:d");
        AssertSucceeded(same);
        StringAssert.Contains(same.Output, SkipMessage);

        // A property given on the command line (the project file is unchanged).
        var property = project.Build("-v:d", "-p:FpgaClockMHz=125");
        AssertSucceeded(property);
        AssertRan(property, "-p:FpgaClockMHz=125");
        var propertyAgain = project.Build("-v:d", "-p:FpgaClockMHz=125");
        AssertSucceeded(propertyAgain);
        StringAssert.Contains(propertyAgain.Output, SkipMessage);

        // A data file the model reads.
        File.SetLastWriteTimeUtc(project.TestCsv, DateTime.UtcNow.AddSeconds(2));
        var data = project.Build("-v:d", "-p:FpgaClockMHz=125");
        AssertSucceeded(data);
        AssertRan(data, "touching the test CSV");
    }

    [TestMethod]
    [DataRow(Consumption.PackageReference)]
    [DataRow(Consumption.ProjectSdk)]
    public void InvalidBitsFailWithCodedError(Consumption consumption)
    {
        var project = new HardwareProject(consumption, "badbits")
            .WriteProject("""<LayerPrecision Include="encoder0.ffn.fc1" WeightBits="eight" />""");

        var result = project.Build();

        AssertFailedWith(result, "TFPGA022", project.ProjectFile);
    }

    [TestMethod]
    [DataRow(Consumption.PackageReference)]
    [DataRow(Consumption.ProjectSdk)]
    public void TwoModelItemsFailWithCodedError(Consumption consumption)
    {
        var project = new HardwareProject(consumption, "twomodels");
        File.Copy(project.ModelJson, Path.Combine(project.Directory, "model", "m2.json"));
        project.WriteProject("""<TransformerModel Include="model/m2.json" />""");

        var result = project.Build();

        AssertFailedWith(result, "TFPGA020", project.ProjectFile);
    }

    [TestMethod]
    [DataRow(Consumption.PackageReference)]
    [DataRow(Consumption.ProjectSdk)]
    public void MissingWeightsFailWithCodedErrorAndRetry(Consumption consumption)
    {
        var project = new HardwareProject(consumption, "noweights").WriteProject(Items);
        AssertSucceeded(project.Build());
        byte[] weights = File.ReadAllBytes(project.Weights);
        // Deleting an input of an up-to-date build must not leave it "up to date".
        File.Delete(project.Weights);

        var result = project.Build();
        AssertFailedWith(result, "TFPGA005", project.ModelJson, project.Weights);

        // A failed attempt is not "up to date": the next build tries again (and fails the same way).
        var again = project.Build();
        AssertFailedWith(again, "TFPGA005", project.ModelJson, project.Weights);

        // Restoring the file fixes the build.
        File.WriteAllBytes(project.Weights, weights);
        AssertSucceeded(project.Build());
        Assert.IsTrue(File.Exists(Path.Combine(project.OutputDir, "report", "simulation.json")));
    }

    [TestMethod]
    public void InvalidBudgetAsWarningPropertyFailsWithCodedError()
    {
        var project = new HardwareProject(Consumption.ProjectSdk, "badbool").WriteProject(Items);

        var result = project.Build("-p:FpgaBudgetAsWarning=maybe");

        AssertFailedWith(result, "TFPGA026", project.ProjectFile);
    }

    [TestMethod]
    [DataRow(Consumption.PackageReference)]
    [DataRow(Consumption.ProjectSdk)]
    public void CleanRemovesGeneratedOutputsAndRebuildRegenerates(Consumption consumption)
    {
        var project = new HardwareProject(consumption, "clean").WriteProject(Items);
        AssertSucceeded(project.Build());
        string simulation = Path.Combine(project.OutputDir, "report", "simulation.json");
        Assert.IsTrue(File.Exists(simulation));

        var clean = project.Clean();
        Assert.AreEqual(0, clean.ExitCode, clean.Output);
        Assert.IsFalse(File.Exists(simulation), "dotnet clean left report/simulation.json");

        AssertSucceeded(project.Build());
        Assert.IsTrue(File.Exists(simulation), "the build after clean did not regenerate");
    }

    [TestMethod]
    public void OutputDirCanBeSetOnTheCommandLine()
    {
        var project = new HardwareProject(Consumption.ProjectSdk, "outdir").WriteProject(Items);

        AssertSucceeded(project.Build("-p:FpgaOutputDir=gen"));

        Assert.IsTrue(File.Exists(Path.Combine(project.Directory, "gen", "report", "simulation.json")));
    }

    // ---- helpers ----

    internal static void AssertSucceeded(DotNetResult result)
    {
        Assert.AreEqual(0, result.ExitCode, "build failed:\n" + result.Output);
    }

    internal static void AssertRan(DotNetResult result, string what)
    {
        Assert.IsFalse(result.Output.Contains(SkipMessage, StringComparison.Ordinal), $"FpgaGenerate was skipped after {what}:\n{result.Output}");
        StringAssert.Contains(result.Output, "Building target \"FpgaGenerate\"", $"FpgaGenerate did not run after {what}");
    }

    internal static void AssertNoStackTrace(string output)
    {
        var traces = output.Split('\n').Where(l => l.StartsWith("   at ", StringComparison.Ordinal)).ToList();
        Assert.AreEqual(0, traces.Count, "stack trace in the output:\n" + output);
    }

    /// <summary>Fails with `file[(line[,col])]: error CODE: message` where file is one of <paramref name="files"/>.</summary>
    internal static void AssertFailedWith(DotNetResult result, string code, params string[] files)
    {
        Assert.AreNotEqual(0, result.ExitCode, "build succeeded:\n" + result.Output);
        AssertNoStackTrace(result.Output);
        var pattern = new Regex(@"^\s*(?<file>\S.*?)(?:\((?<line>\d+)(?:,(?<col>\d+))?\))?\s*:\s+error\s+" + code + @":\s+(?<message>.+)$", RegexOptions.Multiline);
        var matches = pattern.Matches(result.Output);
        Assert.IsTrue(matches.Count > 0, $"no 'error {code}:' diagnostic:\n{result.Output}");
        foreach (Match m in matches)
        {
            string file = m.Groups["file"].Value.Trim();
            Assert.IsTrue(files.Any(f => string.Equals(Path.GetFullPath(f), file, StringComparison.Ordinal)),
                $"{code} names '{file}', expected one of {string.Join(", ", files)}:\n{result.Output}");
            Assert.IsFalse(string.IsNullOrWhiteSpace(m.Groups["message"].Value));
        }
        Assert.IsFalse(Regex.IsMatch(result.Output, @"error MSB4018|error MSB4181|error MSB4062"), "MSBuild task failure instead of a coded error:\n" + result.Output);
    }

    private static void AssertSimulationJson(string path)
    {
        Assert.IsTrue(File.Exists(path), path + " missing");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        Assert.AreEqual(JsonValueKind.Object, root.ValueKind);
        foreach (string key in new[] { "float_vs_target", "integer_vs_target", "integer_vs_float" })
        {
            Assert.IsTrue(root.TryGetProperty(key, out var metric), $"simulation.json has no '{key}'");
            foreach (string stat in new[] { "mse", "mae" })
            {
                Assert.IsTrue(metric.TryGetProperty(stat, out var value) && value.ValueKind == JsonValueKind.Number, $"simulation.json {key}.{stat} missing or not a number");
                double v = value.GetDouble();
                Assert.IsTrue(double.IsFinite(v) && v >= 0, $"{key}.{stat} = {v}");
            }
        }
        AssertSnakeCase(root, "$");
    }

    private static void AssertSnakeCase(JsonElement element, string path)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in element.EnumerateObject())
            {
                Assert.IsTrue(Regex.IsMatch(p.Name, "^[a-z0-9]+(_[a-z0-9]+)*$"), $"simulation.json key '{path}.{p.Name}' is not snake_case");
                AssertSnakeCase(p.Value, path + "." + p.Name);
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray()) AssertSnakeCase(item, path + "[]");
        }
    }

    private static void AssertPredictionsCsv(string path)
    {
        Assert.IsTrue(File.Exists(path), path + " missing");
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();
        string t = HardwareProject.Target;
        Assert.AreEqual($"window,target_{t},float_{t},integer_{t}", lines[0]);
        int windows = HardwareProject.TestRows - HardwareProject.Window;
        Assert.AreEqual(windows, lines.Length - 1, "one row per test window");
        for (int i = 1; i < lines.Length; i++)
        {
            var cells = lines[i].Split(',');
            Assert.AreEqual(4, cells.Length, lines[i]);
            foreach (string cell in cells)
                Assert.IsTrue(double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v), $"not a number: '{cell}' in '{lines[i]}'");
        }
    }

    private static Dictionary<string, DateTime> Timestamps(string directory) =>
        Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc)
            : [];
}
