using System.Text.Json;
using static TransformerFpga.Build.Tests.EndToEndTests;

namespace TransformerFpga.Build.Tests;

/// <summary>`dotnet build -t:FpgaFineTune` from the packed packages: the tuned weights, their use by the next build, and the stale warning.</summary>
[TestClass]
public sealed class FineTuneEndToEndTests
{
    /// <summary>Enough calibration rows for a validation split whose training windows share no row with it.</summary>
    private static readonly ModelShape Shape = new() { CalibrationRows = 400 };

    private const string Properties = """
        <FpgaDefaultWeightBits>4</FpgaDefaultWeightBits>
        <FpgaDefaultActivationBits>4</FpgaDefaultActivationBits>
        <FpgaFineTuneEpochs>3</FpgaFineTuneEpochs>
        <FpgaFineTuneLearningRate>0.001</FpgaFineTuneLearningRate>
        """;

    [TestMethod]
    public void FineTuneWritesWeightsTheNextBuildUsesAndAnotherPlanWarnsStale()
    {
        var project = new HardwareProject(Consumption.PackageReference, "finetune", Shape).WriteProject(properties: Properties);
        string weights = Path.Combine(project.Directory, "fpga-finetuned.safetensors"), manifestPath = Path.Combine(project.Directory, "fpga-finetuned.json");

        var tune = project.Build("-t:FpgaFineTune");
        AssertSucceeded(tune);
        AssertNoStackTrace(tune.Output);
        StringAssert.Contains(tune.Output, "fine-tune: epoch 1/3: ");
        StringAssert.Contains(tune.Output, "fine-tune: epoch 3/3: ");
        Assert.IsTrue(File.Exists(weights) && File.Exists(manifestPath), tune.Output);
        using var manifest = JsonDocument.Parse(File.ReadAllText(manifestPath));
        var plan = manifest.RootElement.GetProperty("plan");
        Assert.AreEqual(4, plan.EnumerateArray().First(l => l.GetProperty("layer").GetString() == "encoder0.ffn.fc1").GetProperty("weight_bits").GetInt32());
        double tunedTestMse = manifest.RootElement.GetProperty("test_mse").GetProperty("after").GetDouble();

        // The build after it uses the tuned weights: its test MSE is the one the manifest reports.
        var build = project.Build("-v:n");
        AssertSucceeded(build);
        StringAssert.Contains(build.Output, "using the fine-tuned weights fpga-finetuned.safetensors");
        Assert.IsFalse(build.Output.Contains("TFPGA051", StringComparison.Ordinal), build.Output);
        Assert.AreEqual(tunedTestMse, IntegerTestMse(project), 1e-12 * tunedTestMse);

        // Another plan: the build warns that the tuned weights are stale and uses the source weights.
        var stale = project.Build("-p:FpgaDefaultWeightBits=6");
        AssertSucceeded(stale);
        StringAssert.Contains(stale.Output, "warning TFPGA051");
        StringAssert.Contains(stale.Output, "another plan");
        Assert.AreNotEqual(tunedTestMse, IntegerTestMse(project));
    }

    private static double IntegerTestMse(HardwareProject project)
    {
        using var simulation = JsonDocument.Parse(File.ReadAllText(Path.Combine(project.OutputDir, "report", "simulation.json")));
        return simulation.RootElement.GetProperty("integer_vs_target").GetProperty("mse").GetDouble();
    }
}
