using System.Globalization;
using TransformerFpga.Integer;
using TransformerFpga.Layers.Norm;
using TransformerFpga.Model;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Hdl.Tests;

/// <summary>
/// The Engine architecture (one shared MAC array for the linear, score and context layers) run by GHDL reproduces the
/// integer simulator bit for bit and takes exactly the cycles of the latency model, on seeded random models, bits and
/// buffer memories, with DSP, LUT and mixed lanes and the weight ROM in either memory.
/// </summary>
[TestClass]
public sealed class EngineEquivalenceTests
{
    public TestContext TestContext { get; set; } = null!;

    // (seed, window, features, dModel, heads, ffn, layers, norm, engine lanes, of them in LUTs (all: the requantizer's
    // multiplier too), weight ROM, min bits, max bits); 102, 104 and 105 have windows the lanes do not divide, so the
    // probabilities and V are stored padded.
    public static IEnumerable<object[]> Cases =>
    [
        [101, 8, 2, 8, 1, 16, 1, "batch", 1, 0, "Auto", 2, 8],
        [102, 6, 3, 8, 2, 16, 1, "batch", 4, 0, "Distributed", 2, 8],
        [103, 8, 1, 16, 2, 32, 2, "layer", 8, 8, "Auto", 2, 8],
        [104, 10, 2, 16, 4, 32, 1, "layer", 4, 0, "Auto", 12, 16],
        [105, 12, 7, 32, 4, 64, 1, "batch", 8, 3, "Block", 2, 8],
        [106, 8, 2, 16, 1, 32, 1, "batch", 2, 2, "Auto", 2, 3],
    ];

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void GhdlMatchesSimulator(int seed, int window, int features, int dModel, int heads, int ffn, int layers, string norm, int lanes, int lutLanes, string weights, int minBits, int maxBits)
    {
        var spec = new SyntheticModelSpec(Window: window, InputFeatures: features, OutputFeatures: 1,
            DModel: dModel, Heads: heads, FfnDim: ffn, EncoderLayers: layers, Norm: norm, Rows: window + 40, Name: "e" + seed.ToString(CultureInfo.InvariantCulture));
        HdlCase.Run(spec, seed, 4, minBits, maxBits, windows: 2, TestContext, engine: new EngineSettings(lanes, lutLanes == lanes, LutLanes: lutLanes, Weights: Enum.Parse<BufferResource>(weights)));
    }

    /// <summary>
    /// The four layer norms of a two-layer model at uniform bits have one shape, so they run on one instance, a job
    /// each (their own gains, offsets and ε): bit- and cycle-exact like separate ones.
    /// </summary>
    [TestMethod]
    public void LayerNormsOfOneShapeRunOnOneInstance()
    {
        using var folder = new TestFolder();
        var config = ModelLoader.LoadConfig(SyntheticModel.Write(folder.File("model"), new SyntheticModelSpec(Window: 8, InputFeatures: 3, OutputFeatures: 1,
            DModel: 16, Heads: 2, FfnDim: 32, EncoderLayers: 2, Norm: "layer", Rows: 48, Name: "e107"), 107));
        var design = HdlCase.RunModel(config, _ => new LayerBits(8, 8), BufferResource.Auto, new EngineSettings(4), windows: 2, TestContext);
        var norms = design.Layers.Where(l => l.Layer is LayerNormLayer).ToList();
        Assert.AreEqual(4, norms.Count);
        var instance = norms.Single(l => l.HasInstance);
        CollectionAssert.AreEqual(norms.Select(n => n.Step).ToList(), instance.Jobs.Select(j => j.Step).ToList());
        CollectionAssert.AreEqual(new[] { 0, 1, 2, 3 }, instance.Jobs.Select(j => j.Job).ToList());
    }

    /// <summary>
    /// The sample's forecaster at uniform 8 bits on a 16-lane engine (its window of 24 padded to 32) as the build's Auto
    /// rule makes it fit (7 lanes in LUTs, the weights in block RAM), over several test windows.
    /// </summary>
    [TestMethod]
    public void SampleIsBitExactOnTheEngine()
    {
        string path = Path.Combine(SynthesisTests.RepositoryRoot(), "samples", "SeattleTemperature", "model", "forecaster.json");
        HdlCase.RunModel(ModelLoader.LoadConfig(path), _ => new LayerBits(8, 8), BufferResource.Auto, new EngineSettings(16, LutLanes: 7, Weights: BufferResource.Block), windows: 4, TestContext);
    }
}
