using System.Text.Json;
using System.Text.RegularExpressions;
using TransformerFpga.Model;
using static TransformerFpga.Build.Tests.EndToEndTests;

namespace TransformerFpga.Build.Tests;

/// <summary>
/// The layer items through MSBuild itself: what MSBuild does to an Include with a `*` (a file glob), the
/// forms that reach the build intact (dotted prefix, Layers metadata, escaped wildcards), and the messages.
/// </summary>
[TestClass]
public sealed class ItemsEndToEndTests
{
    [TestMethod]
    public void GlobbedItemsFailWithTheCauseAndTheOtherFormsReachTheBuild()
    {
        var project = new HardwareProject(Consumption.ProjectSdk, "items");
        File.WriteAllText(Path.Combine(project.Directory, "build.log"), "a file a `*` in an Include matches");

        // In the project file: reported at the item's line.
        project.WriteProject("""<LayerPrecision Include="*" WeightBits="4" />""");
        var inProject = project.Build();
        AssertFailedWith(inProject, "TFPGA028", project.ProjectFile);
        StringAssert.Matches(inProject.Output, new Regex($@"\({LineOf(project, "Include=\"*\"")}(?:,\d+)?\): error TFPGA028: LayerPrecision Include=""\*"": MSBuild expands"));

        // In an imported file: MSBuild hands the task an item per file of the project folder, such as build.log.
        File.WriteAllText(Path.Combine(project.Directory, "items.props"), """
            <Project>
              <ItemGroup>
                <LayerPrecision Include="*" WeightBits="4" />
              </ItemGroup>
            </Project>
            """);
        project.WriteProject(imports: """<Import Project="items.props" />""");
        var imported = project.Build();
        AssertFailedWith(imported, "TFPGA028", project.ProjectFile);
        StringAssert.Matches(imported.Output, new Regex(@"error TFPGA028: LayerPrecision '[^']+' is a file of the project folder, not a layer: MSBuild expanded a \* or \?"));
        StringAssert.Contains(imported.Output, "Layers=");

        // A misspelt metadata.
        project.WriteProject("""<LayerPrecision Include="head" WeightBit="4" />""");
        var typo = project.Build();
        AssertFailedWith(typo, "TFPGA029", project.ProjectFile);
        StringAssert.Contains(typo.Output, $"({LineOf(project, "WeightBit=")}): error TFPGA029");
        StringAssert.Contains(typo.Output, "unknown metadata WeightBit (did you mean WeightBits?)");

        // The forms that reach the build: dotted prefix, Layers patterns (never globbed, even with build.log
        // beside the project), escaped wildcards; plus a setting on the fused ReLU, which only warns. An extra
        // tensor in the weights is listed at normal verbosity.
        var tensors = new Dictionary<string, Tensor>(SafeTensors.Read(project.Weights), StringComparer.Ordinal)
        {
            ["encoder.0.norm1.num_batches_tracked"] = new Tensor([1], [100]),
        };
        File.WriteAllBytes(project.Weights, SafeTensors.Serialize(tensors));
        project.WriteProject("""
            <LayerPrecision Include="narrow-ffn" Layers="encoder*.ffn.*;head" WeightBits="4" />
            <LayerPrecision Include="encoder0.attn" ActivationBits="6" />
            <LayerPrecision Include="encoder0.ffn.relu" ActivationBits="5" />
            <LayerParallelism Include="encoder0.attn.%2A" Lanes="2" />
            """, properties: "<FpgaArchitecture>Layers</FpgaArchitecture>"); // per-layer lanes: one datapath per layer
        var good = project.Build("-v:n");
        AssertSucceeded(good);
        StringAssert.Matches(good.Output, new Regex($@"\({LineOf(project, "encoder0.ffn.relu")}(?:,\d+)?\): warning TFPGA050: LayerPrecision 'encoder0.ffn.relu' sets ActivationBits, which has no effect"));
        StringAssert.Contains(good.Output, "tensors of m.safetensors the model does not use: encoder.0.norm1.num_batches_tracked");

        using var resources = JsonDocument.Parse(File.ReadAllText(Path.Combine(project.OutputDir, "report", "resources.json")));
        var layers = resources.RootElement.GetProperty("layers").EnumerateArray().ToDictionary(l => l.GetProperty("name").GetString()!);
        // The layer rows (the report also has rows of its own, such as the control logic).
        foreach (var (name, row) in layers.Where(l => l.Key is "embedding" or "posenc" or "pool" or "head" || l.Key.StartsWith("encoder0.", StringComparison.Ordinal)))
        {
            int weightBits = row.GetProperty("weight_bits").GetInt32(), activationBits = row.GetProperty("activation_bits").GetInt32(), lanes = row.GetProperty("lanes").GetInt32();
            if (name is "encoder0.ffn.fc1" or "encoder0.ffn.fc2" or "head") Assert.AreEqual(4, weightBits, name);
            else if (name is "embedding" or "encoder0.attn.q" or "encoder0.attn.k" or "encoder0.attn.v" or "encoder0.attn.out") Assert.AreEqual(8, weightBits, name);
            Assert.AreEqual(name.StartsWith("encoder0.attn.", StringComparison.Ordinal) ? 6 : 8, activationBits, name);
            if (name is "encoder0.attn.q" or "encoder0.attn.scores" or "encoder0.attn.context") Assert.AreEqual(2, lanes, name);
        }
        Assert.IsTrue(layers.ContainsKey("encoder0.attn.softmax") && layers.ContainsKey("head"), string.Join(", ", layers.Keys));
    }

    /// <summary>1-based line of the project file holding <paramref name="text"/>.</summary>
    private static int LineOf(HardwareProject project, string text)
    {
        var lines = File.ReadAllLines(project.ProjectFile);
        int index = Array.FindIndex(lines, l => l.Contains(text, StringComparison.Ordinal));
        Assert.IsTrue(index >= 0, $"'{text}' is not in the project file");
        return index + 1;
    }
}
