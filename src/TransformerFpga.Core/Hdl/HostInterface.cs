using System.Globalization;
using System.Text;
using System.Text.Json;
using TransformerFpga.Integer;
using TransformerFpga.Reports;

namespace TransformerFpga.Hdl;

/// <summary>
/// hdl/&lt;top&gt;_io.json and hdl/&lt;top&gt;_io.h: what the software driving the design needs — how a window of
/// physical values becomes x_wr_data words, the write order, the handshake, and how y_rd_data words become
/// physical values again. The C functions reproduce the build's own conversion exactly
/// (<see cref="IntegerTransformer.QuantizeInput"/> after the window normalization, and the de-quantization of the reports).
/// </summary>
public static class HostInterface
{
    public static void Generate(IntegerTransformer model, HdlGenerator.Design design, OutputWriter outputs)
    {
        outputs.Add("hdl/" + design.Top + "_io.json", Json(model, design));
        outputs.Add("hdl/" + design.Top + "_io.h", Header(model, design));
    }

    private const string InputFormula =
        "x_wr_data = clamp(round_half_away_from_zero(float32((x - mean) / std) / scale), min, max), two's complement in bits";
    private const string OutputFormula = "y = sign_extend(y_rd_data, bits) * scale * std + mean";

    private static readonly string[] Handshake =
    [
        "write the window while busy = 0: x_wr_en = 1, x_wr_addr = t * input_features + f, x_wr_data = quantized value of feature f at time t (t = 0 the oldest row), one word per clock",
        "pulse start high for one clock with busy = 0; busy goes high on the next edge",
        "wait for done: a one-clock pulse, with busy low again",
        "read output k: drive y_rd_addr = k; y_rd_data holds it one clock later",
        "after power-up hold rst (synchronous, active high) for at least one clock before the first start",
    ];

    private static string R(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Json(IntegerTransformer model, HdlGenerator.Design design)
    {
        var data = model.Config.Data;
        var input = model.Input;
        var output = model.OutputLayer.Output;
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("top", design.Top);
            json.WriteNumber("window", model.Config.Window);
            json.WriteNumber("input_features", model.Config.InputFeatures);
            json.WriteNumber("output_features", model.Config.OutputFeatures);

            json.WriteStartObject("x");
            json.WriteString("port", "x_wr_data");
            json.WriteNumber("bits", input.Bits);
            json.WriteNumber("min", input.Min);
            json.WriteNumber("max", input.Max);
            json.WriteNumber("address_bits", design.XAddressBits);
            json.WriteNumber("words", model.InputElements);
            json.WriteString("order", "row-major [window][input_features]: x_wr_addr = t * input_features + f, t = 0 the oldest row");
            json.WriteString("formula", InputFormula);
            json.WriteString("rounding", "half away from zero");
            json.WriteStartArray("features");
            for (int f = 0; f < data.InputColumns.Length; f++)
            {
                json.WriteStartObject();
                json.WriteString("column", data.InputColumns[f]);
                json.WriteNumber("mean", data.InputMean[f]);
                json.WriteNumber("std", data.InputStd[f]);
                json.WriteNumber("scale", input.Scale);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();

            json.WriteStartObject("y");
            json.WriteString("port", "y_rd_data");
            json.WriteNumber("bits", output.Bits);
            json.WriteNumber("address_bits", design.OutputBuffer.AddressBits);
            json.WriteNumber("words", design.OutputBuffer.Depth);
            json.WriteString("order", "y_rd_addr = k for target column k");
            json.WriteString("formula", OutputFormula);
            json.WriteStartArray("features");
            for (int k = 0; k < data.TargetColumns.Length; k++)
            {
                json.WriteStartObject();
                json.WriteString("column", data.TargetColumns[k]);
                json.WriteNumber("mean", data.TargetMean[k]);
                json.WriteNumber("std", data.TargetStd[k]);
                json.WriteNumber("scale", output.Scale);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();

            json.WriteStartArray("handshake");
            foreach (string step in Handshake) json.WriteStringValue(step);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static string Header(IntegerTransformer model, HdlGenerator.Design design)
    {
        var data = model.Config.Data;
        string top = design.Top;
        string upper = top.ToUpperInvariant();
        string I(long v) => v.ToString(CultureInfo.InvariantCulture);
        string Array(IEnumerable<double> values) => "{ " + string.Join(", ", values.Select(R)) + " }";
        string Columns(IEnumerable<string> columns) => string.Join(", ", columns.Select(CommentText));
        var h = new StringBuilder();
        void Line(string text = "") => h.Append(text).Append('\n');

        Line($"/* Host interface of {top}: physical values <-> x_wr_data / y_rd_data words.");
        Line(" *");
        Line($" * Input columns (feature order; exact names in {top}_io.json): {Columns(data.InputColumns)}");
        Line($" * Target columns (output order): {Columns(data.TargetColumns)}");
        Line(" *");
        Line($" * Write order: row-major [window][input features], x_wr_addr = t * {upper}_INPUT_FEATURES + f,");
        Line(" * t = 0 the oldest row of the window; the design forecasts the row after the newest.");
        Line(" * Handshake (all on the rising edge of clk):");
        foreach (string step in Handshake) Line(" *   - " + step + ".");
        Line(" * Input:  " + InputFormula + ".");
        Line(" * Output: " + OutputFormula + ".");
        Line(" * The functions below are exact to the build's simulator on IEEE double arithmetic without");
        Line(" * fused multiply-add contraction (compile with -ffp-contract=off where the target has FMA).");
        Line(" */");
        Line($"#ifndef {upper}_IO_H");
        Line($"#define {upper}_IO_H");
        Line();
        Line("#include <stdint.h>");
        Line();
        Line($"#define {upper}_WINDOW {I(model.Config.Window)}");
        Line($"#define {upper}_INPUT_FEATURES {I(model.Config.InputFeatures)}");
        Line($"#define {upper}_OUTPUT_FEATURES {I(model.Config.OutputFeatures)}");
        Line($"#define {upper}_INPUT_WORDS {I(model.InputElements)}");
        Line($"#define {upper}_X_BITS {I(model.Input.Bits)}");
        Line($"#define {upper}_X_ADDRESS_BITS {I(design.XAddressBits)}");
        Line($"#define {upper}_X_MIN ({I(model.Input.Min)})");
        Line($"#define {upper}_X_MAX {I(model.Input.Max)}");
        Line($"#define {upper}_Y_BITS {I(model.OutputLayer.Output.Bits)}");
        Line($"#define {upper}_Y_ADDRESS_BITS {I(design.OutputBuffer.AddressBits)}");
        Line();
        Line($"static const double {top}_input_mean[{upper}_INPUT_FEATURES] = {Array(data.InputMean)};");
        Line($"static const double {top}_input_std[{upper}_INPUT_FEATURES] = {Array(data.InputStd)};");
        Line($"static const double {top}_input_scale = {R(model.Input.Scale)};");
        Line($"static const double {top}_target_mean[{upper}_OUTPUT_FEATURES] = {Array(data.TargetMean)};");
        Line($"static const double {top}_target_std[{upper}_OUTPUT_FEATURES] = {Array(data.TargetStd)};");
        Line($"static const double {top}_output_scale = {R(model.OutputLayer.Output.Scale)};");
        Line();
        Line($"/* window: {upper}_INPUT_WORDS physical values, row-major [time][feature].");
        Line($" * x: the x_wr_data value for x_wr_addr = i (write its low {upper}_X_BITS bits). */");
        Line($"static inline void {top}_quantize_window(const double *window, int32_t *x)");
        Line("{");
        Line($"    for (int i = 0; i < {upper}_INPUT_WORDS; i++) {{");
        Line($"        int f = i % {upper}_INPUT_FEATURES;");
        Line("        /* the model was calibrated on single-precision normalized values */");
        Line($"        float normalized = (float)((window[i] - {top}_input_mean[f]) / {top}_input_std[f]);");
        Line($"        double v = (double)normalized / {top}_input_scale;");
        Line("        int32_t q;");
        Line("        if (v != v) q = 0;");
        Line($"        else if (v >= {upper}_X_MAX) q = {upper}_X_MAX;");
        Line($"        else if (v <= {upper}_X_MIN) q = {upper}_X_MIN;");
        Line("        else {");
        Line("            double fraction;");
        Line("            q = (int32_t)v; /* toward zero; v - q is exact */");
        Line("            fraction = v - (double)q;");
        Line("            if (fraction >= 0.5) q++;");
        Line("            else if (fraction <= -0.5) q--;");
        Line("        }");
        Line("        x[i] = q;");
        Line("    }");
        Line("}");
        Line();
        Line($"/* y_rd_data words (read at y_rd_addr = k, raw {upper}_Y_BITS-bit two's complement) -> physical values. */");
        Line($"static inline void {top}_dequantize_outputs(const uint32_t *y_rd_data, double *y)");
        Line("{");
        Line($"    for (int k = 0; k < {upper}_OUTPUT_FEATURES; k++) {{");
        Line($"        uint32_t word = y_rd_data[k] & (uint32_t)((1ull << {upper}_Y_BITS) - 1u);");
        Line($"        int64_t q = (int64_t)word - ((word >> ({upper}_Y_BITS - 1)) ? (int64_t)(1ll << {upper}_Y_BITS) : 0);");
        Line($"        double normalized = (double)q * {top}_output_scale;");
        Line($"        y[k] = normalized * {top}_target_std[k] + {top}_target_mean[k];");
        Line("    }");
        Line("}");
        Line();
        Line($"#endif /* {upper}_IO_H */");
        return h.ToString();
    }

    /// <summary>
    /// Column names are user data: the header shows them reduced to [A-Za-z0-9_.-] (anything else becomes '_'),
    /// so that no name can end the comment or reach the C code; the exact names are in the JSON file.
    /// </summary>
    private static string CommentText(string column)
    {
        var sb = new StringBuilder();
        foreach (char c in column) sb.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' ? c : '_');
        return sb.ToString();
    }
}
