using System.Text.Json;
using static TransformerFpga.Build.Tests.EndToEndTests;

namespace TransformerFpga.Build.Tests;

/// <summary>`dotnet build -t:FpgaExplore` from the packed packages: reports, the props to import, and peace with the build.</summary>
[TestClass]
public sealed class ExploreEndToEndTests
{
    private const string SkipMessage = "Skipping target \"FpgaGenerate\" because all output files are up-to-date";

    private static readonly string Items = """
        <LayerPrecision Include="encoder0.ffn.%2A" WeightBits="6" ActivationBits="8" />
        <LayerParallelism Include="encoder0.ffn.%2A" Lanes="2" />
        """;

    [TestMethod]
    [DataRow(Consumption.PackageReference)]
    [DataRow(Consumption.ProjectSdk)]
    public void ExploreReportsAndItsPropsRebuildTheReportedDesignWithoutDisturbingTheBuild(Consumption consumption)
    {
        var project = new HardwareProject(consumption, "explore").WriteProject(Items);
        string report = Path.Combine(project.OutputDir, "report");
        AssertSucceeded(project.Build());
        var built = Timestamps(project.OutputDir);

        // Bits on the command line: ';' separates properties there, so it is written %3B.
        var explore = project.Build("-t:FpgaExplore", "-p:FpgaExploreBits=4%3B8");
        AssertSucceeded(explore);
        AssertNoStackTrace(explore.Output);
        StringAssert.Contains(explore.Output, "explore: search ");
        StringAssert.Contains(explore.Output, "explore: best (Accuracy): ");
        foreach (string file in new[] { "explore.json", "explore.md", "explore.svg", "explore.props" })
            Assert.IsTrue(File.Exists(Path.Combine(report, file)), file + " missing:\n" + explore.Output);
        var afterExplore = Timestamps(project.OutputDir);
        foreach (var (file, time) in built)
            Assert.AreEqual(time, afterExplore.GetValueOrDefault(file), "FpgaExplore touched the build's " + file);

        // A build after the exploration: nothing to do, and the exploration's files stay.
        var again = project.Build("-v:d");
        AssertSucceeded(again);
        StringAssert.Contains(again.Output, SkipMessage);
        Assert.IsTrue(File.Exists(Path.Combine(report, "explore.props")));

        // Import the result after the project's items: the build makes the reported design with the reported error.
        File.Copy(Path.Combine(report, "explore.props"), Path.Combine(project.Directory, "explore.props"));
        project.WriteProject(Items, imports: """<Import Project="explore.props" />""");
        AssertSucceeded(project.Build());
        using var explored = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "explore.json")));
        var best = explored.RootElement.GetProperty("designs")[explored.RootElement.GetProperty("best").GetInt32()];
        using var simulation = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "simulation.json")));
        Assert.AreEqual(best.GetProperty("integer_vs_target").GetProperty("mse").GetDouble(),
            simulation.RootElement.GetProperty("integer_vs_target").GetProperty("mse").GetDouble());
        using var resources = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "resources.json")));
        Assert.AreEqual(best.GetProperty("fits").GetBoolean(), resources.RootElement.GetProperty("fits").GetBoolean());
        Assert.AreEqual(best.GetProperty("latency_cycles").GetInt64(), resources.RootElement.GetProperty("latency_cycles").GetInt64());
        Assert.AreEqual(best.GetProperty("total").GetProperty("lut").GetInt32(), resources.RootElement.GetProperty("total").GetProperty("lut").GetInt32());
    }

    private static Dictionary<string, DateTime> Timestamps(string directory) =>
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc);
}
