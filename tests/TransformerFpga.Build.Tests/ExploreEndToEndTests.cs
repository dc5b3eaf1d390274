using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
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

    /// <summary>Enough calibration rows for the fine-tuning's validation split (as in FineTuneEndToEndTests); two short epochs.</summary>
    private static readonly ModelShape FineTuneShape = new() { CalibrationRows = 400 };

    private const string FineTuneProperties = """
        <FpgaExploreBits>4;8</FpgaExploreBits>
        <FpgaFineTuneEpochs>2</FpgaFineTuneEpochs>
        <FpgaFineTuneLearningRate>0.001</FpgaFineTuneLearningRate>
        """;

    [TestMethod]
    public void ExploreFineTuneReportsTheBestAndUniformDesignsFineTunedAsFpgaFineTuneTunesThem()
    {
        var project = new HardwareProject(Consumption.PackageReference, "explore-finetune", FineTuneShape).WriteProject(properties: FineTuneProperties);
        string report = Path.Combine(project.OutputDir, "report");

        // Off by default, and false is the default.
        AssertSucceeded(project.Build("-t:FpgaExplore"));
        var unset = Reports(report);
        AssertSucceeded(project.Build("-t:FpgaExplore", "-p:FpgaExploreFineTune=false"));
        var off = Reports(report);
        foreach (var (file, text) in unset) Assert.AreEqual(text, off[file], file);
        Assert.IsFalse(off["explore.json"].Contains("finetuned", StringComparison.Ordinal));

        var on = project.Build("-t:FpgaExplore", "-p:FpgaExploreFineTune=true");
        AssertSucceeded(on);
        AssertNoStackTrace(on.Output);
        // The model's weights vary from run to run, so the best design may be the uniform one: the label is not asserted.
        StringAssert.Matches(on.Output, new Regex(@"explore: fine-tune [^:\n]+: epoch 2/2: training MSE "));
        StringAssert.Matches(on.Output, new Regex(@"explore: fine-tuned [^:\n]+: best epoch \d+, validation MSE "));
        Assert.IsFalse(File.Exists(Path.Combine(project.Directory, "fpga-finetuned.safetensors")), "FpgaExplore wrote fine-tuned weights");
        var tuned = Reports(report);

        // Fine-tuning only reports: the same choice, plot and props; the JSON and the markdown only gain its parts.
        Assert.AreEqual(off["explore.props"], tuned["explore.props"]);
        Assert.AreEqual(off["explore.svg"], tuned["explore.svg"]);
        var tunedJson = JsonNode.Parse(tuned["explore.json"])!.AsObject();
        Assert.IsTrue(tunedJson.Remove("fine_tuning"));
        foreach (var design in tunedJson["designs"]!.AsArray()) design!.AsObject().Remove("finetuned");
        Assert.IsTrue(JsonNode.DeepEquals(JsonNode.Parse(off["explore.json"]), tunedJson), "explore.json differs beyond the fine-tuning's fields");
        string markdown = Regex.Replace(tuned["explore.md"], @"## Fine-tuned designs\n[\s\S]*?(?=## )", "");
        markdown = Regex.Replace(markdown, @" Fine-tuned for its bits: test MSE \S+ \(see \*Fine-tuned designs\*\)\.", "");
        Assert.AreEqual(off["explore.md"], markdown);

        // The best design and the uniform 8-bit one are tuned, and so is every design with the same bits (same weights); no other.
        using var json = JsonDocument.Parse(tuned["explore.json"]);
        var designs = json.RootElement.GetProperty("designs").EnumerateArray().ToList();
        var best = designs[json.RootElement.GetProperty("best").GetInt32()];
        var uniform = designs.First(d => d.GetProperty("origin").GetString() == "uniform" && d.GetProperty("uniform_bits").GetInt32() == 8);
        var tunedBits = new[] { BitsKey(best), BitsKey(uniform) };
        foreach (var d in designs)
        {
            Assert.AreEqual(tunedBits.Contains(BitsKey(d)), d.TryGetProperty("finetuned", out var f), "design " + d.GetProperty("id"));
            // The source weights compete as epoch 0 on the fine-tuning's validation windows, so it never ends above them.
            if (f.ValueKind == JsonValueKind.Object)
                Assert.IsTrue(f.GetProperty("validation_mse").GetDouble() <= f.GetProperty("validation_mse_before").GetDouble(), f.ToString());
        }
        StringAssert.Contains(tuned["explore.md"], "## Fine-tuned designs");

        // FpgaFineTune on the imported best design: the same weights, so the figures the exploration reported.
        File.Copy(Path.Combine(report, "explore.props"), Path.Combine(project.Directory, "explore.props"));
        project.WriteProject(properties: FineTuneProperties, imports: """<Import Project="explore.props" />""");
        AssertSucceeded(project.Build("-t:FpgaFineTune"));
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(project.Directory, "fpga-finetuned.json")));
        var reported = best.GetProperty("finetuned");
        Assert.AreEqual(reported.GetProperty("best_epoch").GetInt32(), manifest.RootElement.GetProperty("best_epoch").GetInt32());
        Assert.AreEqual(reported.GetProperty("validation_mse_before").GetDouble(), manifest.RootElement.GetProperty("validation_mse").GetProperty("before").GetDouble());
        Assert.AreEqual(reported.GetProperty("validation_mse").GetDouble(), manifest.RootElement.GetProperty("validation_mse").GetProperty("after").GetDouble());
        Assert.AreEqual(reported.GetProperty("test_mse").GetDouble(), manifest.RootElement.GetProperty("test_mse").GetProperty("after").GetDouble());
    }

    [TestMethod]
    public void InvalidExploreFineTuneAndFineTuneSettingsAreCodedErrors()
    {
        var project = new HardwareProject(Consumption.PackageReference, "explore-finetune-bad", FineTuneShape).WriteProject(properties: FineTuneProperties);

        var notBoolean = project.Build("-t:FpgaExplore", "-p:FpgaExploreFineTune=yes");
        AssertFailedWith(notBoolean, "TFPGA201", project.ProjectFile);
        StringAssert.Contains(notBoolean.Output, "FpgaExploreFineTune is 'yes'; use true or false");

        // The FpgaFineTune* properties are validated as FpgaFineTune validates them, before the search.
        var badEpochs = project.Build("-t:FpgaExplore", "-p:FpgaExploreFineTune=true", "-p:FpgaFineTuneEpochs=0");
        AssertFailedWith(badEpochs, "TFPGA026", project.ProjectFile);
        StringAssert.Contains(badEpochs.Output, "FpgaFineTuneEpochs is '0'");
        Assert.IsFalse(badEpochs.Output.Contains("explore: search ", StringComparison.Ordinal), badEpochs.Output);
    }

    /// <summary>report/explore.* as text.</summary>
    private static Dictionary<string, string> Reports(string report) =>
        new[] { "explore.json", "explore.md", "explore.svg", "explore.props" }.ToDictionary(f => f, f => File.ReadAllText(Path.Combine(report, f)));

    /// <summary>A design's weight and activation bits per layer (rows with activations; the engine and control rows have none).</summary>
    private static string BitsKey(JsonElement design) => string.Join(";", design.GetProperty("layers").EnumerateArray()
        .Where(l => l.GetProperty("activation_bits").GetInt32() > 0)
        .Select(l => $"{l.GetProperty("name").GetString()}={l.GetProperty("weight_bits").GetInt32()}/{l.GetProperty("activation_bits").GetInt32()}"));

    private static Dictionary<string, DateTime> Timestamps(string directory) =>
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc);
}
