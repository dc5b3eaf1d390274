namespace TransformerFpga.Hardware;

/// <summary>Least squares, non-negative except in the columns asked for, by coordinate descent: small, dense, deterministic.</summary>
public static class LeastSquares
{
    /// <summary>Minimizes Σ w_i (x_i·c − y_i)² over c ≥ 0, except c_j for j in <paramref name="signed"/> (ridge λ keeps rank-deficient systems stable).</summary>
    public static double[] FitNonNegative(IReadOnlyList<double[]> rows, IReadOnlyList<double> targets, IReadOnlyList<double>? weights = null, double ridge = 1e-6, int iterations = 4000,
        IReadOnlySet<int>? signed = null)
    {
        int n = rows.Count == 0 ? 0 : rows[0].Length;
        var gram = new double[n, n];
        var rhs = new double[n];
        for (int r = 0; r < rows.Count; r++)
        {
            double w = weights?[r] ?? 1;
            for (int i = 0; i < n; i++)
            {
                rhs[i] += w * rows[r][i] * targets[r];
                for (int j = 0; j < n; j++) gram[i, j] += w * rows[r][i] * rows[r][j];
            }
        }
        for (int i = 0; i < n; i++) gram[i, i] += ridge * (1 + gram[i, i]);
        var c = new double[n];
        for (int iteration = 0; iteration < iterations; iteration++)
        {
            double change = 0;
            for (int i = 0; i < n; i++)
            {
                if (gram[i, i] <= 0) continue;
                double residual = rhs[i];
                for (int j = 0; j < n; j++) if (j != i) residual -= gram[i, j] * c[j];
                double next = signed?.Contains(i) == true ? residual / gram[i, i] : Math.Max(0, residual / gram[i, i]);
                change = Math.Max(change, Math.Abs(next - c[i]));
                c[i] = next;
            }
            if (change < 1e-10) break;
        }
        return c;
    }
}
