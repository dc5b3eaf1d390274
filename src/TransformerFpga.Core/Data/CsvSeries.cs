using System.Globalization;
using TransformerFpga.Diagnostics;

namespace TransformerFpga.Data;

/// <summary>A CSV time series with a header: the input and target columns of every row, in file order.</summary>
public sealed class CsvSeries
{
    private CsvSeries(string path, double[][] inputs, double[][] targets)
    {
        Path = path;
        Inputs = inputs;
        Targets = targets;
    }

    public string Path { get; }
    /// <summary>[row][input column], raw units.</summary>
    public double[][] Inputs { get; }
    /// <summary>[row][target column], raw units.</summary>
    public double[][] Targets { get; }
    public int Rows => Inputs.Length;

    public static CsvSeries Load(string path, IReadOnlyList<string> inputColumns, IReadOnlyList<string> targetColumns)
    {
        if (!File.Exists(path))
            throw new FpgaException(ErrorCodes.DataFileMissing, path, "data CSV not found; check \"data.calibration\"/\"data.test\" in the model JSON (relative to the JSON file)");
        string[] lines;
        try { lines = File.ReadAllLines(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new FpgaException(ErrorCodes.DataFileMissing, path, "cannot read data CSV: " + e.Message); }
        return Parse(lines, path, inputColumns, targetColumns);
    }

    public static CsvSeries Parse(string[] lines, string path, IReadOnlyList<string> inputColumns, IReadOnlyList<string> targetColumns)
    {
        if (lines.Length == 0 || string.IsNullOrWhiteSpace(lines[0]))
            throw new FpgaException(ErrorCodes.DataMalformed, path, 1, "the CSV is empty; it needs a header row naming the columns");
        var header = SplitLine(lines[0].TrimStart('\uFEFF'), path, 1);
        int ColumnIndex(string name)
        {
            int index = Array.FindIndex(header, h => h.Trim() == name);
            if (index < 0)
                throw new FpgaException(ErrorCodes.DataColumnMissing, path, 1, $"column '{name}' is not in the header ({string.Join(", ", header.Select(h => h.Trim()))}); fix \"data.inputColumns\"/\"data.targetColumns\"");
            return index;
        }
        int[] inputIndex = inputColumns.Select(ColumnIndex).ToArray();
        int[] targetIndex = targetColumns.Select(ColumnIndex).ToArray();
        var inputs = new List<double[]>(lines.Length);
        var targets = new List<double[]>(lines.Length);
        for (int i = 1; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            var cells = SplitLine(lines[i], path, i + 1, out var starts);
            if (cells.Length != header.Length)
                throw new FpgaException(ErrorCodes.DataMalformed, path, i + 1, $"row has {cells.Length} cells but the header has {header.Length}");
            double Cell(int column)
            {
                string cell = cells[column].Trim();
                string where = $"column {column + 1} ('{header[column].Trim()}')";
                if (IsMissing(cell))
                    throw new FpgaException(ErrorCodes.DataMalformed, path, i + 1, starts[column] + 1,
                        $"{where} holds a missing value ({(cell.Length == 0 ? "an empty cell" : $"'{cell}'")}); the series needs a number in every input and target cell: fill the gap (interpolate) or drop the rows around it");
                if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
                    throw new FpgaException(ErrorCodes.DataMalformed, path, i + 1, starts[column] + 1,
                        $"cell '{Shorten(cell)}' in {where} is not a finite number (use '.' as the decimal separator)");
                return value;
            }
            inputs.Add(inputIndex.Select(Cell).ToArray());
            targets.Add(targetIndex.Select(Cell).ToArray());
        }
        return new CsvSeries(path, inputs.ToArray(), targets.ToArray());
    }

    private static string Shorten(string s) => s.Length > 40 ? s[..40] + "…" : s;

    /// <summary>How data exports write a gap: an empty cell, or NaN in any case and sign (which double.Parse would accept as a number).</summary>
    private static bool IsMissing(string cell) =>
        cell.Length == 0 || cell.TrimStart('+', '-').Equals("nan", StringComparison.OrdinalIgnoreCase);

    private static string[] SplitLine(string line, string path, int lineNumber) => SplitLine(line, path, lineNumber, out _);

    /// <summary>Splits on commas; double-quoted cells may contain commas and doubled quotes. <paramref name="starts"/>: each cell's 0-based offset in the line.</summary>
    private static string[] SplitLine(string line, string path, int lineNumber, out List<int> starts)
    {
        var cells = new List<string>();
        starts = [0];
        var cell = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { cell.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else cell.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { cells.Add(cell.ToString()); cell.Clear(); starts.Add(i + 1); }
            else cell.Append(c);
        }
        if (quoted) throw new FpgaException(ErrorCodes.DataMalformed, path, lineNumber, "unterminated quoted cell");
        cells.Add(cell.ToString());
        return cells.ToArray();
    }

    public (double[] Mean, double[] Std) InputStatistics() => Statistics(Inputs);
    public (double[] Mean, double[] Std) TargetStatistics() => Statistics(Targets);

    private (double[] Mean, double[] Std) Statistics(double[][] rows)
    {
        if (rows.Length < 2) throw new FpgaException(ErrorCodes.DataTooShort, Path, "at least 2 rows are needed to derive the normalization");
        int columns = rows[0].Length;
        var mean = new double[columns];
        var std = new double[columns];
        for (int c = 0; c < columns; c++)
        {
            double sum = 0;
            foreach (var r in rows) sum += r[c];
            mean[c] = sum / rows.Length;
            double squares = 0;
            foreach (var r in rows) squares += (r[c] - mean[c]) * (r[c] - mean[c]);
            std[c] = Math.Sqrt(squares / rows.Length);
            if (std[c] == 0) std[c] = 1;
        }
        return (mean, std);
    }
}

/// <summary>Sliding windows over a series: rows t..t+W-1 (normalized inputs) predict row t+W's targets.</summary>
public sealed class WindowSet
{
    public WindowSet(CsvSeries series, int window, double[] mean, double[] std, int maxWindows = int.MaxValue)
    {
        int count = series.Rows - window;
        if (count < 1)
            throw new FpgaException(ErrorCodes.DataTooShort, series.Path, $"the CSV has {series.Rows} data rows; a window of {window} needs at least {window + 1}");
        count = Math.Min(count, maxWindows);
        int features = mean.Length;
        Window = window;
        Features = features;
        Count = count;
        Inputs = new float[count][];
        Targets = new double[count][];
        for (int w = 0; w < count; w++)
        {
            var x = new float[window * features];
            for (int t = 0; t < window; t++)
                for (int f = 0; f < features; f++)
                    x[t * features + f] = (float)((series.Inputs[w + t][f] - mean[f]) / std[f]);
            Inputs[w] = x;
            Targets[w] = series.Targets[w + window];
        }
    }

    public int Window { get; }
    public int Features { get; }
    public int Count { get; }
    /// <summary>[window][t * features + f], normalized.</summary>
    public float[][] Inputs { get; }
    /// <summary>[window][target], raw units.</summary>
    public double[][] Targets { get; }
}
