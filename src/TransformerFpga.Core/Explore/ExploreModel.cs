using TransformerFpga.Hardware;

namespace TransformerFpga.Explore;

/// <summary>
/// What the search optimizes over a design space: resources and cycles exactly as the estimator and the
/// latency model give them (<see cref="DesignCosts"/>), area as the device's weighted share
/// (<see cref="Device.AreaFraction"/>), and the error the sensitivity predicts (<see cref="Sensitivity.PredictedError"/>).
/// </summary>
/// <param name="errorScale">Scales the predicted error (measured on the sensitivity's windows) so that the reference design's equals its error on the whole test set.</param>
public sealed class ExploreModel(DesignSpace space, DesignCosts costs, Sensitivity sensitivity, double errorScale, Device device, Resources budget) : IDesignModel
{
    public DesignSpace Space => space;

    public int Genes => space.Layers.Count;

    public int Options(int gene) => space.Layers[gene].Count;

    public int Mutate(int gene, int option, SplitMix64 random) => space.Layers[gene].Mutate(option, random);

    public void Prepare(IReadOnlyList<int[]> genomes, CancellationToken cancellation) => costs.Prepare(genomes, cancellation);

    public DesignScore Score(int[] genome)
    {
        var cost = costs.Cost(genome);
        return new DesignScore(PredictedError(genome), device.AreaFraction(cost.Resources), cost.Cycles, DesignEstimate.Overflow(cost.Resources, budget));
    }

    private readonly Dictionary<(int Layer, int Option), double[]?> _shifts = new();

    public double PredictedError(IReadOnlyList<int> genome) =>
        sensitivity.PredictedError(space.Layers.Select(l => Shift(l.Index, genome[l.Index]))) * errorScale;

    private double[]? Shift(int layer, int option)
    {
        if (!_shifts.TryGetValue((layer, option), out var shift))
            _shifts[(layer, option)] = shift = sensitivity.Shift(layer, space.Layers[layer][option]);
        return shift;
    }
}
