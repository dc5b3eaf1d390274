using TransformerFpga.Hardware;
using TransformerFpga.Hdl;
using TransformerFpga.Integer;
using TransformerFpga.Reports;

namespace TransformerFpga.Pipeline;

/// <summary>
/// Estimates any plan of one model on one device: quantizes it (once per distinct set of bits),
/// generates its hardware into memory and runs the resource model. Used by the Auto rule, the
/// budget gate's fix search and the design-space exploration.
/// </summary>
public sealed class PlanEstimator(ModelEvaluation evaluation, string topName, Device device, string part, double clockMHz, double limitPercent, ResourceCoefficients coefficients)
{
    private readonly Dictionary<string, IntegerTransformer> _models = new(StringComparer.Ordinal);

    public ModelEvaluation Evaluation { get; } = evaluation;
    public Device Device { get; } = device;
    public double LimitPercent { get; } = limitPercent;

    private static string Key(LayerPlan plan) => string.Join(";", plan.LayerNames.Select(n => $"{plan.Bits(n).WeightBits},{plan.Bits(n).ActivationBits}"));

    /// <summary>Makes a model quantized elsewhere for the plan's bits known, so that it is not quantized again.</summary>
    public void Add(LayerPlan plan, IntegerTransformer model)
    {
        lock (_models) _models[Key(plan)] = model;
    }

    /// <summary>The quantized model for the plan's bits (cached: the search revisits the same bits often).</summary>
    public IntegerTransformer Model(LayerPlan plan)
    {
        string key = Key(plan);
        lock (_models)
        {
            if (!_models.TryGetValue(key, out var model))
            {
                if (_models.Count > 256) _models.Clear();
                _models[key] = model = Evaluation.Quantize(plan.Bits);
            }
            return model;
        }
    }

    public DesignEstimate Estimate(LayerPlan plan) => Estimate(Model(plan), plan);

    public DesignEstimate Estimate(IntegerTransformer model, LayerPlan plan)
    {
        var scratch = new OutputWriter();
        var design = HdlGenerator.Generate(model, plan, topName, [], scratch);
        return Estimate(model, plan, design, file => scratch.Text("hdl/" + file));
    }

    /// <summary>The estimate of a design already generated (the build's own, read from the files it writes).</summary>
    public DesignEstimate Estimate(IntegerTransformer model, LayerPlan plan, HdlGenerator.Design design, Func<string, string> hdlFile) =>
        DesignEstimate.Build(model, plan, design, hdlFile, Device, part, clockMHz, LimitPercent, coefficients);
}
