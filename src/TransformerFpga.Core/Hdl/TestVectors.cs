using TransformerFpga.Integer;

namespace TransformerFpga.Hdl;

/// <summary>Picks the testbench windows: evenly spread over the test set, plus the windows with the largest and the smallest output.</summary>
public static class TestVectors
{
    public const int DefaultCount = 8;

    /// <param name="quantizedOutputs">The simulator's outputs per window (from the build's evaluation, so nothing is simulated twice).</param>
    /// <returns>Quantized windows (row-major [window][feature]) in test-set order, without duplicates.</returns>
    public static IReadOnlyList<int[]> Select(IntegerTransformer model, IReadOnlyList<float[]> normalizedWindows, IReadOnlyList<int[]> quantizedOutputs, int count = DefaultCount)
    {
        if (normalizedWindows.Count == 0) return [];
        int largest = 0, smallest = 0;
        long max = long.MinValue, min = long.MaxValue;
        for (int w = 0; w < quantizedOutputs.Count; w++)
            foreach (int y in quantizedOutputs[w])
            {
                if (y > max) { max = y; largest = w; }
                if (y < min) { min = y; smallest = w; }
            }
        var chosen = new SortedSet<int> { largest, smallest };
        int spread = Math.Max(1, count - chosen.Count);
        for (int i = 0; i < spread && chosen.Count < Math.Min(count, normalizedWindows.Count); i++)
            chosen.Add((int)((long)i * (normalizedWindows.Count - 1) / Math.Max(1, spread - 1)));
        for (int w = 0; chosen.Count < Math.Min(count, normalizedWindows.Count); w++) chosen.Add(w);
        return chosen.Select(w =>
        {
            var q = new int[model.InputElements];
            model.QuantizeInput(normalizedWindows[w], q);
            return q;
        }).ToList();
    }
}
