namespace TransformerFpga.Diagnostics;

/// <summary>"Did you mean" for a misspelt name: the closest known name by edit distance, ignoring case.</summary>
public static class Suggestions
{
    /// <summary>
    /// The known name nearest to <paramref name="typed"/>, or null when none is near enough to be a plausible
    /// typo (more than <paramref name="share"/> of the longer name differs, a third by default). Ties go to the
    /// earlier name in <paramref name="known"/>.
    /// </summary>
    public static string? Closest(string typed, IEnumerable<string> known, double share = 1.0 / 3)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string candidate in known)
        {
            int distance = EditDistance(typed.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        if (best is null) return null;
        int allowed = Math.Max(1, (int)(Math.Max(typed.Length, best.Length) * share));
        return bestDistance <= allowed ? best : null;
    }

    /// <summary>" (did you mean X?)" or "" when nothing is close.</summary>
    public static string DidYouMean(string typed, IEnumerable<string> known, double share = 1.0 / 3) =>
        Closest(typed, known, share) is { } match ? $" (did you mean {match}?)" : "";

    /// <summary>Levenshtein distance with adjacent transpositions counted as one edit.</summary>
    public static int EditDistance(string a, string b)
    {
        var previous2 = new int[b.Length + 1];
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                int value = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    value = Math.Min(value, previous2[j - 2] + 1);
                current[j] = value;
            }
            (previous2, previous, current) = (previous, current, previous2);
        }
        return previous[b.Length];
    }
}
