using TransformerFpga.Data;
using TransformerFpga.Float;
using TransformerFpga.Hardware;
using TransformerFpga.Model;
using TransformerFpga.Reports;

namespace TransformerFpga.Integer;

/// <summary>Loads the data of a model once; quantizes and evaluates it for any per-layer bits.</summary>
public sealed class ModelEvaluation
{
    /// <summary>Calibration uses at most this many windows, evenly spread over the file.</summary>
    public const int MaxCalibrationWindows = 2048;

    /// <summary>The validation set holds at most this many windows of the calibration file, evenly spread.</summary>
    public const int MaxValidationWindows = 512;

    public ModelEvaluation(ModelConfig config, TransformerWeights weights, CancellationToken cancellation = default)
    {
        Config = config;
        Weights = weights;
        Float = new FloatTransformer(config, weights);
        var data = config.Data;
        var calibrationSeries = CsvSeries.Load(data.CalibrationPath, data.InputColumns, data.TargetColumns);
        var calibration = new WindowSet(calibrationSeries, config.Window, data.InputMean, data.InputStd);
        // Only the windows validation uses are kept: a build holds the evaluation for its whole run.
        int validationStride = Math.Max(1, (calibration.Count + MaxValidationWindows - 1) / MaxValidationWindows);
        var validation = Enumerable.Range(0, calibration.Count).Where(i => i % validationStride == 0).ToArray();
        ValidationInputs = validation.Select(i => calibration.Inputs[i]).ToArray();
        ValidationTargets = validation.Select(i => calibration.Targets[i]).ToArray();
        int stride = Math.Max(1, calibration.Count / MaxCalibrationWindows);
        CalibrationWindows = Enumerable.Range(0, calibration.Count).Where(i => i % stride == 0).Take(MaxCalibrationWindows).Select(i => calibration.Inputs[i]).ToArray();
        Ranges = IntegerTransformer.Calibrate(Float, CalibrationWindows);
        _secondMoments = new Lazy<IReadOnlyDictionary<string, double[]>>(() => WeightRounding.SecondMoments(Float, config, CalibrationWindows));
        _floatMeans = new Lazy<IReadOnlyDictionary<string, double[]>>(() => BiasCorrection.FloatMeans(Float, config, CalibrationWindows));
        cancellation.ThrowIfCancellationRequested();

        var testSeries = CsvSeries.Load(data.TestPath, data.InputColumns, data.TargetColumns);
        Test = new WindowSet(testSeries, config.Window, data.InputMean, data.InputStd);
        FloatPredictions = Test.Inputs.Select(x => Denormalize(Float.Forward(x))).ToArray();
        Persistence = PersistenceForecast(testSeries);
    }

    private readonly Lazy<IReadOnlyDictionary<string, double[]>> _floatMeans, _secondMoments;

    public ModelConfig Config { get; }
    public TransformerWeights Weights { get; }
    public FloatTransformer Float { get; }
    public float[][] CalibrationWindows { get; }
    public IReadOnlyDictionary<string, double> Ranges { get; }
    public WindowSet Test { get; }
    /// <summary>
    /// Windows of the calibration file (at most <see cref="MaxValidationWindows"/>, evenly spread) and their targets:
    /// what FpgaExplore chooses designs by, so that the test set stays out of every choice (the activation ranges come
    /// from the same file).
    /// </summary>
    public float[][] ValidationInputs { get; }
    public double[][] ValidationTargets { get; }
    public double[][] FloatPredictions { get; }
    public double[][]? Persistence { get; }

    /// <summary>
    /// The post-training quantization every build makes: calibrated scales, error-compensating weight rounding
    /// (<see cref="WeightRounding"/>), then bias correction (<see cref="BiasCorrection"/>).
    /// </summary>
    public IntegerTransformer Quantize(Func<string, LayerBits> bits)
    {
        var model = IntegerTransformer.Quantize(Config, Weights, Ranges, bits, _secondMoments.Value);
        BiasCorrection.Apply(model, _floatMeans.Value, CalibrationWindows);
        return model;
    }

    /// <summary><see cref="Quantize"/> for other weights of the same model (fine-tuning's candidates), with their own ranges.</summary>
    public IntegerTransformer Quantize(TransformerWeights weights, IReadOnlyDictionary<string, double> ranges, Func<string, LayerBits> bits)
    {
        var model = new FloatTransformer(Config, weights);
        var quantized = IntegerTransformer.Quantize(Config, weights, ranges, bits, WeightRounding.SecondMoments(model, Config, CalibrationWindows));
        BiasCorrection.Apply(quantized, BiasCorrection.FloatMeans(model, Config, CalibrationWindows), CalibrationWindows);
        return quantized;
    }

    public SimulationResult Evaluate(IntegerTransformer model)
    {
        var workspace = model.CreateWorkspace();
        var quantized = new int[Test.Count][];
        var integer = new double[Test.Count][];
        var activity = new PowerActivity(model.Layers);
        for (int w = 0; w < Test.Count; w++)
        {
            model.QuantizeInput(Test.Inputs[w], workspace.Input);
            quantized[w] = (int[])model.Simulate(workspace).Clone();
            activity.Record(workspace, model.Input.Bits);
            integer[w] = Denormalize(quantized[w].Select(q => model.OutputLayer.Output.Dequantize(q)).ToArray());
        }
        return new SimulationResult(Config.Data.TargetColumns, Test.Targets, FloatPredictions, integer, Persistence, CalibrationWindows.Length, quantized) { Activity = activity };
    }

    public double[] Denormalize(double[] normalized)
    {
        var y = new double[normalized.Length];
        for (int i = 0; i < y.Length; i++) y[i] = normalized[i] * Config.Data.TargetStd[i] + Config.Data.TargetMean[i];
        return y;
    }

    /// <summary>Next row = this row, when every target is also an input column; otherwise null.</summary>
    private double[][]? PersistenceForecast(CsvSeries series)
    {
        var columns = Config.Data.TargetColumns.Select(t => Array.IndexOf(Config.Data.InputColumns, t)).ToArray();
        if (columns.Any(c => c < 0)) return null;
        return Enumerable.Range(0, Test.Count).Select(w => columns.Select(c => series.Inputs[w + Config.Window - 1][c]).ToArray()).ToArray();
    }
}
