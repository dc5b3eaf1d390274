using System.Globalization;
using System.Text;
using System.Text.Json;
using TransformerFpga.Integer;

namespace TransformerFpga.Reports;

/// <summary>Mean squared and mean absolute error over every window and output.</summary>
public readonly record struct ErrorMetrics(double Mse, double Mae)
{
    public static ErrorMetrics Between(IReadOnlyList<double[]> a, IReadOnlyList<double[]> b)
    {
        double squares = 0, absolute = 0;
        long count = 0;
        for (int w = 0; w < a.Count; w++)
            for (int i = 0; i < a[w].Length; i++)
            {
                double e = a[w][i] - b[w][i];
                squares += e * e;
                absolute += Math.Abs(e);
                count++;
            }
        return count == 0 ? new(0, 0) : new(squares / count, absolute / count);
    }
}

/// <summary>
/// Predictions of the float and integer models on the test windows, in the targets' units, and the
/// integer model's raw quantized outputs (what the hardware computes) per window.
/// </summary>
public sealed record SimulationResult(
    string[] TargetColumns,
    double[][] Targets,
    double[][] FloatPredictions,
    double[][] IntegerPredictions,
    double[][]? PersistencePredictions,
    int CalibrationWindows,
    int[][] QuantizedOutputs)
{
    public ErrorMetrics FloatVsTarget => ErrorMetrics.Between(FloatPredictions, Targets);
    public ErrorMetrics IntegerVsTarget => ErrorMetrics.Between(IntegerPredictions, Targets);
    public ErrorMetrics IntegerVsFloat => ErrorMetrics.Between(IntegerPredictions, FloatPredictions);
    /// <summary>Toggle rates of every layer's output over the simulated windows, for the power model.</summary>
    public Hardware.PowerActivity? Activity { get; init; }
    public ErrorMetrics? PersistenceVsTarget => PersistencePredictions is null ? null : ErrorMetrics.Between(PersistencePredictions, Targets);
}

public static class SimulationReport
{
    public static string Json(IntegerTransformer model, SimulationResult result)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("model", model.Config.Name);
            json.WriteNumber("test_windows", result.Targets.Length);
            json.WriteNumber("calibration_windows", result.CalibrationWindows);
            json.WriteStartArray("target_columns");
            foreach (var c in result.TargetColumns) json.WriteStringValue(c);
            json.WriteEndArray();
            void Metrics(string name, ErrorMetrics m)
            {
                json.WriteStartObject(name);
                json.WriteNumber("mse", m.Mse);
                json.WriteNumber("mae", m.Mae);
                json.WriteEndObject();
            }
            Metrics("float_vs_target", result.FloatVsTarget);
            Metrics("integer_vs_target", result.IntegerVsTarget);
            Metrics("integer_vs_float", result.IntegerVsFloat);
            if (result.PersistenceVsTarget is { } p) Metrics("persistence_vs_target", p);
            json.WriteNumber("input_bits", model.Input.Bits);
            json.WriteNumber("output_bits", model.OutputLayer.Output.Bits);
            json.WriteStartArray("layers");
            foreach (var layer in model.Layers)
            {
                json.WriteStartObject();
                json.WriteString("name", layer.Name);
                json.WriteString("kind", layer.Kind.ToString());
                json.WriteNumber("weight_bits", layer.WeightBits);
                json.WriteNumber("activation_bits", layer.ActivationBits);
                json.WriteNumber("scale", layer.Output.Scale);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    public static string PredictionsCsv(SimulationResult result)
    {
        var csv = new StringBuilder("window");
        foreach (var prefix in new[] { "target_", "float_", "integer_" })
            foreach (var column in result.TargetColumns) csv.Append(',').Append(prefix).Append(CsvName(column));
        csv.Append('\n');
        for (int w = 0; w < result.Targets.Length; w++)
        {
            csv.Append(w.ToString(CultureInfo.InvariantCulture));
            foreach (var values in new[] { result.Targets[w], result.FloatPredictions[w], result.IntegerPredictions[w] })
                foreach (double v in values) csv.Append(',').Append(v.ToString("R", CultureInfo.InvariantCulture));
            csv.Append('\n');
        }
        return csv.ToString();
    }

    /// <summary>Column names are data: keep them one CSV cell (no separators, quotes or line breaks).</summary>
    private static string CsvName(string column)
    {
        var sb = new StringBuilder();
        foreach (char c in column) sb.Append(char.IsLetterOrDigit(c) || c is '_' or '-' or '.' ? c : '_');
        return sb.ToString();
    }
}
