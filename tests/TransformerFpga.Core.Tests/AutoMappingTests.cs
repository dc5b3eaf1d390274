using TransformerFpga.Hardware;
using TransformerFpga.Integer;
using TransformerFpga.Model;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Tests;

/// <summary>The Auto rule of an engine design: which multipliers, lanes and memories it moves to make a design fit.</summary>
[TestClass]
public sealed class AutoMappingTests
{
    /// <summary>
    /// A layer-norm model on 16 lanes, on a part with 7,900 LUTs (2,600 of them usable as RAM) and 22 DSP48E1 (the
    /// XC7S15's other resources). With every multiplier on a DSP48E1 it lacks DSPs; moving the norms' products to LUTs
    /// (the cheapest single move; the two norms share one instance) leaves it over the LUTs. Moving the lanes the DSPs lack to LUTs instead keeps the norms' products on DSP48E1 and
    /// fits: the rule must find that.
    /// </summary>
    [TestMethod]
    public void LanesMoveToLutsWhereThatKeepsOtherLayersOnDsps()
    {
        using var folder = new TestFolder();
        var config = ModelLoader.LoadConfig(SyntheticModel.Write(folder.File("model"),
            new SyntheticModelSpec(Window: 24, InputFeatures: 3, DModel: 32, Heads: 2, FfnDim: 128, Norm: "layer", Rows: 200), seed: 1));
        var evaluation = new ModelEvaluation(config, TransformerWeights.Load(config));
        var xc7s15 = Device.FromPart("xc7s15ftgb196-1", null);
        var device = xc7s15 with { Capacity = xc7s15.Capacity with { Lut = 7_900, LutRam = 2_600, Dsp = 22 } };
        var estimator = new PlanEstimator(evaluation, "synthetic", device, "xc7s15ftgb196-1", 100, 100, ResourceCoefficients.Default);
        var plan = LayerPlan.From(IntegerTransformer.LayerNames(config), _ => new LayerChoice(new LayerBits(8, 8), BufferResource.Auto, 1, MultiplierMapping.Auto))
            .WithEngine(new EngineSettings(16));
        string[] norms = ["encoder0.norm1", "encoder0.norm2"];

        var allDsp = estimator.Estimate(plan.With(n => plan[n] with { Multiplier = MultiplierMapping.Dsp }));
        Assert.IsTrue(allDsp.Total.Dsp > device.Capacity.Dsp, $"premise: all on DSP48E1 needs more than the part's ({allDsp.Total.Dsp})");
        var normsInLuts = AutoMapping.Resolve(plan, estimator.Estimate);
        CollectionAssert.IsSubsetOf(norms.Select(n => $"{n}: multipliers in LUTs").ToList(), normsInLuts.Switches.ToList(), "premise: the per-layer rule moves the norms: " + string.Join("; ", normsInLuts.Switches) + " " + normsInLuts.Estimate.Total);
        Assert.IsTrue(normsInLuts.Estimate.Total.Lut > device.Capacity.Lut, $"premise: with the norms in LUTs it is over the LUTs ({normsInLuts.Estimate.Total.Lut})");

        var resolved = AutoMapping.ResolveEngineLanes(plan, estimator.Estimate);
        Assert.IsTrue(resolved.Estimate.Fits, string.Join("; ", resolved.Switches) + ": " + resolved.Estimate.Total);
        foreach (string norm in norms)
            Assert.AreEqual(MultiplierMapping.Dsp, resolved.Plan[norm].Multiplier, norm);
        var engine = resolved.Plan.Engine!;
        Assert.AreEqual(16, engine.Lanes);
        Assert.IsTrue(engine.LutLanes > 0, "some lanes in LUTs");
        Assert.IsTrue(resolved.Estimate.Total.Dsp <= device.Capacity.Dsp);
    }
}
