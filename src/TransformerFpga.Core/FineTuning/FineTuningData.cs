using TransformerFpga.Data;
using TransformerFpga.Diagnostics;
using TransformerFpga.Model;

namespace TransformerFpga.FineTuning;

/// <summary>
/// The calibration file's windows split in time: the last <see cref="FineTuneOptions.ValidationPercent"/> % validate,
/// the windows before them train. Training windows end (target row included) before the first validation window
/// starts, so no row is seen by both: overlapping windows would leak the validation targets into training.
/// </summary>
public sealed class FineTuningData
{
    private FineTuningData(float[][] trainingInputs, double[][] trainingTargets, float[][] validationInputs, double[][] validationTargets)
    {
        TrainingInputs = trainingInputs;
        TrainingTargets = trainingTargets;
        ValidationInputs = validationInputs;
        ValidationTargets = validationTargets;
    }

    public float[][] TrainingInputs { get; }
    /// <summary>Normalized with the target columns' mean and std, as the model's outputs are.</summary>
    public double[][] TrainingTargets { get; }
    public float[][] ValidationInputs { get; }
    /// <summary>In target units, as every reported MSE is.</summary>
    public double[][] ValidationTargets { get; }

    public static FineTuningData Load(ModelConfig config, double validationPercent)
    {
        var data = config.Data;
        var series = CsvSeries.Load(data.CalibrationPath, data.InputColumns, data.TargetColumns);
        var windows = new WindowSet(series, config.Window, data.InputMean, data.InputStd);
        int validation = (int)Math.Ceiling(windows.Count * validationPercent / 100);
        int firstValidation = windows.Count - validation;
        int training = firstValidation - config.Window;
        if (validation < 1 || training < 1)
            throw new FpgaException(ErrorCodes.DataTooShort, data.CalibrationPath,
                $"the calibration file has {windows.Count} windows of {config.Window} rows; fine-tuning holds out {validationPercent:0.#} % of them for validation " +
                $"and needs at least one training window that ends before the first validation window starts; use a longer calibration file");
        double[] Normalized(double[] target) => target.Select((v, o) => (v - data.TargetMean[o]) / data.TargetStd[o]).ToArray();
        return new FineTuningData(
            windows.Inputs[..training], windows.Targets[..training].Select(Normalized).ToArray(),
            windows.Inputs[firstValidation..], windows.Targets[firstValidation..]);
    }
}
