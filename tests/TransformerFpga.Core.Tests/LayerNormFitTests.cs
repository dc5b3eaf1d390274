using TransformerFpga.Diagnostics;
using TransformerFpga.Model;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Tests;

/// <summary>A model shaped like PyTorch's nn.TransformerEncoderLayer (layer norm) fits the XC7S15 as it is.</summary>
[TestClass]
public sealed class LayerNormFitTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>8 bit everywhere, d_model 16, 2 heads, ffn 64, window 24, 3 inputs, no item set, budget overruns as errors.</summary>
    [TestMethod]
    public void EightBitLayerNormModelFitsTheXc7s15WithNoItemSet()
    {
        using var folder = new TestFolder();
        SyntheticModel.Write(folder.File("model"), new SyntheticModelSpec(Window: 24, InputFeatures: 3, DModel: 16, Heads: 2, FfnDim: 64, Norm: "layer", Rows: 200), seed: 1);
        string project = folder.File("Hardware.csproj");
        File.WriteAllText(project, "<Project />");
        var outcome = FpgaBuild.Run(new BuildRequest(project, ["model/synthetic.json"], [], [], [], new BuildSettings { OutputDir = folder.File("out") }));
        Assert.IsTrue(outcome.Success, string.Join("\n", outcome.Diagnostics.Select(d => d.Code + " " + d.Message)));
        Assert.IsFalse(outcome.Diagnostics.Any(d => d.Severity == Severity.Error), string.Join("\n", outcome.Diagnostics));
        TestContext.WriteLine(outcome.Summary);
        StringAssert.Contains(outcome.Summary!, "fits xc7s15ftgb196-1");
    }
}
