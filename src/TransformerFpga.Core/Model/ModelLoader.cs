using System.Text.Json;
using TransformerFpga.Data;
using TransformerFpga.Diagnostics;

namespace TransformerFpga.Model;

/// <summary>Reads and validates the model JSON and the files it names.</summary>
public static class ModelLoader
{
    public const string FormatVersion = "transformer-fpga/1";

    /// <param name="projectDirectory">When set, every file the model names must lie inside it.</param>
    public static ModelConfig LoadConfig(string modelPath, string? projectDirectory = null)
    {
        modelPath = Path.GetFullPath(modelPath);
        if (!File.Exists(modelPath))
            throw new FpgaException(ErrorCodes.ModelFileMissing, modelPath, "model JSON not found; check the TransformerModel item's Include path");
        string text;
        try { text = File.ReadAllText(modelPath); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new FpgaException(ErrorCodes.ModelFileMissing, modelPath, "cannot read model JSON: " + e.Message); }
        var doc = Parse(text, modelPath);
        return Validate(doc, text, modelPath, projectDirectory);
    }

    internal static ModelDocument Parse(string text, string modelPath)
    {
        try
        {
            var doc = JsonSerializer.Deserialize(text, ModelJsonContext.Default.ModelDocument);
            return doc ?? throw new FpgaException(ErrorCodes.ModelJsonInvalid, modelPath, 1, "model JSON is null; expected an object with \"format\": \"transformer-fpga/1\" and the model's fields (see the README's 'The model')");
        }
        catch (JsonException e)
        {
            int line = (int)(e.LineNumber ?? 0) + 1;
            bool syntax = e.InnerException is not null || e.Path is null || e.Message.Contains("invalid", StringComparison.OrdinalIgnoreCase) && e.Message.Contains("start of a", StringComparison.OrdinalIgnoreCase);
            string where = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : $" at {e.Path}";
            if (e.Message.Contains("could not be mapped", StringComparison.Ordinal))
                return Fail(ErrorCodes.ModelJsonInvalid, $"unknown property{where}; the README's 'The model' lists the accepted fields");
            if (e.Message.Contains("could not be converted", StringComparison.Ordinal))
                return Fail(ErrorCodes.ModelJsonInvalid, $"wrong value type{where}: {FirstSentence(e.Message)}");
            return Fail(syntax ? ErrorCodes.ModelJsonSyntax : ErrorCodes.ModelJsonInvalid, $"JSON syntax error{where}: {FirstSentence(e.Message)}");

            ModelDocument Fail(string code, string message) => throw new FpgaException(code, modelPath, line, message);
        }
    }

    private static string FirstSentence(string message)
    {
        int cut = message.IndexOf(". Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    private static ModelConfig Validate(ModelDocument d, string text, string modelPath, string? projectDirectory)
    {
        FpgaException Invalid(string field, string message) => new(ErrorCodes.ModelJsonInvalid, modelPath, LineOf(text, field), message);

        if (d.Format is null) throw Invalid("format", $"\"format\" is missing; set it to \"{FormatVersion}\"");
        if (d.Format != FormatVersion) throw new FpgaException(ErrorCodes.ModelFormatVersion, modelPath, LineOf(text, "format"), $"unsupported format '{d.Format}'; this version reads \"{FormatVersion}\"");
        string name = string.IsNullOrWhiteSpace(d.Name) ? Path.GetFileNameWithoutExtension(modelPath) : d.Name!;
        if (string.IsNullOrWhiteSpace(d.Weights)) throw Invalid("weights", "\"weights\" is missing; name the safetensors file (relative to the model JSON)");

        int Required(int? value, string field, int min, int max)
        {
            if (value is null) throw Invalid(field, $"\"{field}\" is missing");
            if (value < min || value > max) throw Invalid(field, $"\"{field}\" is {value}; it must be between {min} and {max}");
            return value.Value;
        }
        int window = Required(d.Window, "window", 1, ModelConfig.MaxWindow);
        int inputs = Required(d.InputFeatures, "inputFeatures", 1, ModelConfig.MaxFeatures);
        int outputs = Required(d.OutputFeatures, "outputFeatures", 1, ModelConfig.MaxFeatures);
        int dModel = Required(d.DModel, "dModel", 1, ModelConfig.MaxDModel);
        int heads = Required(d.Heads ?? 1, "heads", 1, ModelConfig.MaxHeads);
        int ffn = Required(d.FfnDim ?? 4 * dModel, "ffnDim", 1, ModelConfig.MaxFfn);
        int layers = Required(d.EncoderLayers ?? 1, "encoderLayers", 1, ModelConfig.MaxEncoderLayers);
        if (dModel % heads != 0) throw Invalid("heads", $"dModel {dModel} is not divisible by heads {heads}");
        NormKind norm = (d.Norm ?? "batch") switch
        {
            "batch" => NormKind.Batch,
            "layer" => NormKind.Layer,
            var other => throw Invalid("norm", $"\"norm\" is '{other}'; use \"batch\" or \"layer\""),
        };
        if ((d.Activation ?? "relu") != "relu") throw Invalid("activation", $"\"activation\" is '{d.Activation}'; only \"relu\" is supported");
        if ((d.PositionalEncoding ?? "sinusoidal") != "sinusoidal") throw Invalid("positionalEncoding", $"\"positionalEncoding\" is '{d.PositionalEncoding}'; only \"sinusoidal\" is supported");
        if ((d.Pooling ?? "average") != "average") throw Invalid("pooling", $"\"pooling\" is '{d.Pooling}'; only \"average\" is supported");

        string directory = Path.GetDirectoryName(modelPath)!;
        string Resolve(string relative, string field)
        {
            string full;
            try { full = Path.GetFullPath(Path.Combine(directory, relative)); }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
            { throw Invalid(field, $"\"{field}\" is not a valid path: {e.Message}"); }
            if (projectDirectory is not null && !IsInside(full, projectDirectory))
                throw new FpgaException(ErrorCodes.PathOutsideProject, modelPath, LineOf(text, field), $"\"{field}\" resolves to '{full}', outside the project folder '{Path.GetFullPath(projectDirectory)}'; keep model files inside the project");
            return full;
        }
        string weights = Resolve(d.Weights!, "weights");

        var data = d.Data ?? throw Invalid("data", "\"data\" is missing; it names the calibration and test CSV files and their columns");
        if (string.IsNullOrWhiteSpace(data.Calibration)) throw Invalid("calibration", "\"data.calibration\" is missing");
        if (string.IsNullOrWhiteSpace(data.Test)) throw Invalid("test", "\"data.test\" is missing");
        string calibration = Resolve(data.Calibration!, "calibration");
        string test = Resolve(data.Test!, "test");
        var inputColumns = data.InputColumns?.ToArray() ?? throw Invalid("inputColumns", "\"data.inputColumns\" is missing");
        var targetColumns = data.TargetColumns?.ToArray() ?? throw Invalid("targetColumns", "\"data.targetColumns\" is missing");
        if (inputColumns.Length != inputs) throw Invalid("inputColumns", $"\"data.inputColumns\" has {inputColumns.Length} names but inputFeatures is {inputs}");
        if (targetColumns.Length != outputs) throw Invalid("targetColumns", $"\"data.targetColumns\" has {targetColumns.Length} names but outputFeatures is {outputs}");
        if (inputColumns.Distinct(StringComparer.Ordinal).Count() != inputColumns.Length) throw Invalid("inputColumns", "\"data.inputColumns\" names a column twice");

        double[] mean, std, targetMean, targetStd;
        var normalization = data.Normalization;
        if (normalization?.Mean is null || normalization.Std is null)
        {
            // No normalization given: derive it from the calibration data, as training code usually does.
            var calib = CsvSeries.Load(calibration, inputColumns, targetColumns);
            (mean, std) = calib.InputStatistics();
            (targetMean, targetStd) = calib.TargetStatistics();
        }
        else
        {
            mean = normalization.Mean.ToArray();
            std = normalization.Std.ToArray();
            if (mean.Length != inputs || std.Length != inputs) throw Invalid("normalization", $"\"data.normalization\" needs {inputs} mean and std values, one per input column");
            if (std.Any(s => !(s > 0) || double.IsInfinity(s)) || mean.Any(m => !double.IsFinite(m))) throw Invalid("normalization", "\"data.normalization\" std values must be positive and all values finite");
            targetMean = new double[outputs];
            targetStd = new double[outputs];
            for (int i = 0; i < outputs; i++)
            {
                int source = Array.IndexOf(inputColumns, targetColumns[i]);
                if (normalization.TargetMean is { } tm && normalization.TargetStd is { } ts)
                {
                    if (tm.Count != outputs || ts.Count != outputs || !(ts[i] > 0)) throw Invalid("targetMean", $"\"data.normalization.targetMean\"/\"targetStd\" need {outputs} values with std > 0");
                    (targetMean[i], targetStd[i]) = (tm[i], ts[i]);
                }
                else if (source >= 0) (targetMean[i], targetStd[i]) = (mean[source], std[source]);
                else throw Invalid("normalization", $"target column '{targetColumns[i]}' is not an input column; give \"targetMean\" and \"targetStd\" in \"data.normalization\"");
            }
        }
        return new ModelConfig(name, modelPath, weights, window, inputs, outputs, dModel, heads, ffn, layers, norm,
            new DataConfig(calibration, test, inputColumns, targetColumns, mean, std, targetMean, targetStd));
    }

    public static bool IsInside(string path, string directory)
    {
        string root = Path.GetFullPath(directory);
        if (!root.EndsWith(Path.DirectorySeparatorChar)) root += Path.DirectorySeparatorChar;
        return Path.GetFullPath(path).StartsWith(root, StringComparison.Ordinal);
    }

    /// <summary>1-based line of the first occurrence of "field" (a key), or 0.</summary>
    internal static int LineOf(string text, string field)
    {
        int index = text.IndexOf("\"" + field + "\"", StringComparison.Ordinal);
        if (index < 0) return 0;
        int line = 1;
        for (int i = 0; i < index; i++) if (text[i] == '\n') line++;
        return line;
    }
}
