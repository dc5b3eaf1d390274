using TransformerFpga.Explore;

namespace TransformerFpga.Training;

/// <summary>
/// The trainers' seeded generator: <see cref="SplitMix64"/>'s sequence (fixed by this code, not by the
/// runtime's System.Random), with the uniform and shuffle helpers training needs. The same seed gives
/// the same weights on every .NET version.
/// </summary>
public sealed class DeterministicRandom(ulong seed)
{
    private readonly SplitMix64 _source = new(seed);

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => _source.NextDouble();

    public double Uniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>Uniform integer in [0, count).</summary>
    public int NextInt(int count) => (int)(NextDouble() * count);

    public void Shuffle(int[] items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
