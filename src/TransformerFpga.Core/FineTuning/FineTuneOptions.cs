using System.Globalization;
using TransformerFpga.Diagnostics;

namespace TransformerFpga.FineTuning;

/// <summary>The FpgaFineTune* properties, raw as MSBuild passes them; validated by <see cref="FineTuneOptions.Parse"/>.</summary>
public sealed record FineTuneSettings
{
    public string Epochs { get; init; } = "";
    public string LearningRate { get; init; } = "";
    public string ValidationPercent { get; init; } = "";
}

/// <summary>How quantization-aware fine-tuning runs. The defaults (chosen on the sample's validation error) fine-tune it in about 70 s on one core.</summary>
public sealed record FineTuneOptions
{
    public const int DefaultEpochs = 40;
    public const double DefaultLearningRate = 1e-3;
    public const double DefaultValidationPercent = 20;

    public int Epochs { get; init; } = DefaultEpochs;
    /// <summary>Adam's peak step; it decays along a cosine to 1 % of this over the run.</summary>
    public double LearningRate { get; init; } = DefaultLearningRate;
    /// <summary>Share of the calibration file's windows held out to choose the best epoch (blocks spread over the file, <see cref="FineTuningData"/>).</summary>
    public double ValidationPercent { get; init; } = DefaultValidationPercent;
    public int BatchSize { get; init; } = 32;
    /// <summary>Seeds the order of the training windows; fixed, so the same inputs give the same weights.</summary>
    public ulong Seed { get; init; } = 1;

    public static FineTuneOptions Parse(FineTuneSettings settings, string projectFile)
    {
        var options = new FineTuneOptions();
        string epochs = settings.Epochs.Trim(), rate = settings.LearningRate.Trim(), share = settings.ValidationPercent.Trim();
        if (epochs.Length > 0)
        {
            if (!int.TryParse(epochs, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < 1 || value > 1000)
                throw new FpgaException(ErrorCodes.InvalidProperty, projectFile, $"FpgaFineTuneEpochs is '{settings.Epochs}'; use a whole number from 1 to 1000");
            options = options with { Epochs = value };
        }
        if (rate.Length > 0)
        {
            if (!double.TryParse(rate, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value > 0) || value > 1)
                throw new FpgaException(ErrorCodes.InvalidProperty, projectFile, $"FpgaFineTuneLearningRate is '{settings.LearningRate}'; use a number greater than 0 and at most 1, e.g. 0.001");
            options = options with { LearningRate = value };
        }
        if (share.Length > 0)
        {
            if (!double.TryParse(share, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value >= 1) || value > 50)
                throw new FpgaException(ErrorCodes.InvalidProperty, projectFile, $"FpgaFineTuneValidationPercent is '{settings.ValidationPercent}'; use a percentage from 1 to 50");
            options = options with { ValidationPercent = value };
        }
        return options;
    }
}
