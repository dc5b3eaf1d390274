using System.Globalization;
using TransformerFpga.Diagnostics;
using TransformerFpga.FineTuning;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Explore;

/// <summary>What FpgaExplore optimizes.</summary>
public enum ExploreObjective
{
    /// <summary>The least error that fits; ties: less area, then fewer cycles.</summary>
    Accuracy,
    /// <summary>The fewest cycles that fit within FpgaExploreMaxErrorIncreasePercent of the uniform 8-bit error; ties: less area, then less error.</summary>
    Latency,
}

/// <summary>The FpgaExplore* properties, raw as MSBuild passes them; validated by <see cref="ExploreOptions.Parse"/> (TFPGA201).</summary>
public sealed record ExploreSettings
{
    public string Objective { get; init; } = "Accuracy";
    public string Bits { get; init; } = "4;6;8";
    public string MaxErrorIncreasePercent { get; init; } = "5";
    /// <summary>FpgaExploreFineTune: true or false.</summary>
    public string FineTune { get; init; } = "false";
    /// <summary>The FpgaFineTune* properties, read only when <see cref="FineTune"/> is true.</summary>
    public FineTuneSettings FineTuning { get; init; } = new();
}

/// <summary>A `dotnet build -t:FpgaExplore` request: the project's inputs as for a build, and the exploration's options.</summary>
public sealed record ExploreRequest(BuildRequest Build, ExploreSettings Settings);

/// <summary>The validated exploration options.</summary>
/// <param name="Bits">Candidate weight and activation bits, ascending and distinct.</param>
public sealed record ExploreOptions(ExploreObjective Objective, IReadOnlyList<int> Bits, double MaxErrorIncreasePercent)
{
    /// <summary>
    /// The default of FpgaExploreMaxErrorIncreasePercent: the Latency objective may give up 5 % of the
    /// uniform 8-bit design's test error for speed — little enough that the design forecasts as well as
    /// the 8-bit one for practical purposes, enough to let the layers that barely matter drop bits.
    /// </summary>
    public const double DefaultMaxErrorIncreasePercent = 5;

    /// <summary>The bits whose uniform design is the Latency objective's error reference ("the 8-bit error").</summary>
    public const int ReferenceBits = 8;

    public int WidestBits => Bits[^1];

    /// <summary>
    /// FpgaExploreFineTune=true: how the best design and the uniform design at the widest bits are fine-tuned (as FpgaFineTune
    /// would tune them) to report their fine-tuned errors; null when false. The choice stays on the post-training errors.
    /// </summary>
    public FineTuneOptions? FineTuning { get; init; }

    public static ExploreOptions Parse(ExploreSettings settings, string projectFile)
    {
        string objectiveText = settings.Objective.Trim();
        ExploreObjective objective = objectiveText.Length == 0 ? ExploreObjective.Accuracy
            : objectiveText.Equals("Accuracy", StringComparison.OrdinalIgnoreCase) ? ExploreObjective.Accuracy
            : objectiveText.Equals("Latency", StringComparison.OrdinalIgnoreCase) ? ExploreObjective.Latency
            : throw new FpgaException(ErrorCodes.InvalidExploreOption, projectFile, $"FpgaExploreObjective is '{settings.Objective}'; use Accuracy or Latency");

        var bits = new SortedSet<int>();
        string bitsText = settings.Bits.Trim().Length == 0 ? "4;6;8" : settings.Bits;
        foreach (string part in bitsText.Split([';', ',', ' '], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int b) || b < LayerPlan.MinBits || b > LayerPlan.MaxBits)
                throw new FpgaException(ErrorCodes.InvalidExploreOption, projectFile,
                    $"FpgaExploreBits is '{settings.Bits}'; '{part}' is not a whole number of bits from {LayerPlan.MinBits} to {LayerPlan.MaxBits} (write e.g. 4;6;8)");
            bits.Add(b);
        }
        if (bits.Count == 0)
            throw new FpgaException(ErrorCodes.InvalidExploreOption, projectFile, "FpgaExploreBits is empty; list the candidate bits, e.g. 4;6;8");

        double increase = DefaultMaxErrorIncreasePercent;
        string increaseText = settings.MaxErrorIncreasePercent.Trim();
        if (increaseText.Length > 0 && (!double.TryParse(increaseText, NumberStyles.Float, CultureInfo.InvariantCulture, out increase) || !(increase >= 0) || increase > 1000))
            throw new FpgaException(ErrorCodes.InvalidExploreOption, projectFile,
                $"FpgaExploreMaxErrorIncreasePercent is '{settings.MaxErrorIncreasePercent}'; use a number from 0 to 1000 (percent of the uniform 8-bit error)");

        string fineTuneText = settings.FineTune.Trim();
        bool fineTune = fineTuneText.Length > 0 && (bool.TryParse(fineTuneText, out bool value)
            ? value
            : throw new FpgaException(ErrorCodes.InvalidExploreOption, projectFile, $"FpgaExploreFineTune is '{settings.FineTune}'; use true or false"));
        return new ExploreOptions(objective, bits.ToList(), increase)
        {
            FineTuning = fineTune ? FineTuneOptions.Parse(settings.FineTuning, projectFile) : null,
        };
    }
}
