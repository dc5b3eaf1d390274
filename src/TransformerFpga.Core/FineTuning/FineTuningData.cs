using TransformerFpga.Data;
using TransformerFpga.Diagnostics;
using TransformerFpga.Model;

namespace TransformerFpga.FineTuning;

/// <summary>
/// The calibration file's windows split in time: the file is cut into <see cref="Blocks"/> contiguous blocks, and
/// <see cref="FineTuneOptions.ValidationPercent"/> % of them (rounded to whole blocks, at least one), spread evenly over
/// the file, validate; the rest train. Spread blocks see every season of the series, which one held-out tail would
/// not (the sample's tail is its winter). Training windows keep clear of every validation window's rows, target row
/// included: overlapping windows would leak validation targets into training.
/// </summary>
public sealed class FineTuningData
{
    /// <summary>Validation shares are whole twentieths: 5 % steps.</summary>
    public const int Blocks = 20;

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
        int count = windows.Count;
        int validationBlocks = Math.Clamp((int)Math.Round(Blocks * validationPercent / 100), 1, Blocks / 2);
        var isValidation = new bool[count];
        var isTraining = Enumerable.Repeat(true, count).ToArray();
        for (int k = 0; k < validationBlocks; k++)
        {
            int block = (int)Math.Round((k + 0.5) * Blocks / validationBlocks - 0.5);
            int start = (int)((long)count * block / Blocks), end = (int)((long)count * (block + 1) / Blocks);
            for (int i = start; i < end; i++) isValidation[i] = true;
            // Window i reads rows i … i + window (its target); it must not share a row with windows start … end - 1.
            for (int i = Math.Max(0, start - config.Window); i < Math.Min(count, end + config.Window); i++) isTraining[i] = false;
        }
        var training = Enumerable.Range(0, count).Where(i => isTraining[i]).ToArray();
        var validation = Enumerable.Range(0, count).Where(i => isValidation[i]).ToArray();
        if (training.Length < 1 || validation.Length < 1)
            throw new FpgaException(ErrorCodes.DataTooShort, data.CalibrationPath,
                $"the calibration file has {count} windows of {config.Window} rows; fine-tuning holds out {validationPercent:0.#} % of them for validation " +
                "and needs training windows that share no row with a validation window; use a longer calibration file");
        double[] Normalized(double[] target) => target.Select((v, o) => (v - data.TargetMean[o]) / data.TargetStd[o]).ToArray();
        return new FineTuningData(
            training.Select(i => windows.Inputs[i]).ToArray(), training.Select(i => Normalized(windows.Targets[i])).ToArray(),
            validation.Select(i => windows.Inputs[i]).ToArray(), validation.Select(i => windows.Targets[i]).ToArray());
    }
}
