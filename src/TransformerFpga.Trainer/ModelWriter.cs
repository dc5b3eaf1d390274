using System.Globalization;
using System.Text;
using System.Text.Json;
using TransformerFpga.Model;
using TransformerFpga.Training;

namespace TransformerFpga.Trainer;

/// <summary>Writes the model JSON (format transformer-fpga/1) and the weights as safetensors.</summary>
public static class ModelWriter
{
    public sealed record Normalization(double[] Mean, double[] Std, double[]? TargetMean, double[]? TargetStd);

    public static void WriteSafeTensors(string path, TransformerNetwork network) =>
        File.WriteAllBytes(path, SafeTensors.Serialize(network.Parameters.ToTensors()));

    public static void WriteJson(string path, string weightsFile, NetworkShape shape, TrainerOptions options,
        string calibrationPath, string testPath, Normalization normalization)
    {
        static string Text(string s) => JsonSerializer.Serialize(s);
        static string Strings(IEnumerable<string> items) => "[" + string.Join(", ", items.Select(Text)) + "]";
        // "R" round-trips: the loader reads back exactly the doubles the trainer normalized with.
        static string Numbers(IEnumerable<double> items) => "[" + string.Join(", ", items.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]";
        static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);
        string relativeTo = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string Relative(string file) => Path.GetRelativePath(relativeTo, file).Replace('\\', '/');

        string normKind = shape.Norm == NormKind.Batch ? "batch" : "layer";
        var json = new StringBuilder();
        json.Append("{\n");
        json.Append("  \"format\": ").Append(Text(ModelLoader.FormatVersion)).Append(",\n");
        json.Append("  \"name\": ").Append(Text(options.Name)).Append(",\n");
        json.Append("  \"weights\": ").Append(Text(weightsFile)).Append(",\n");
        json.Append($"  \"window\": {Int(shape.Window)}, \"inputFeatures\": {Int(shape.InputFeatures)}, \"outputFeatures\": {Int(shape.OutputFeatures)},\n");
        json.Append($"  \"dModel\": {Int(shape.DModel)}, \"heads\": {Int(shape.Heads)}, \"ffnDim\": {Int(shape.FfnDim)}, \"encoderLayers\": {Int(shape.EncoderLayers)},\n");
        json.Append($"  \"norm\": \"{normKind}\", \"activation\": \"relu\",\n");
        json.Append("  \"positionalEncoding\": \"sinusoidal\", \"pooling\": \"average\",\n");
        json.Append("  \"data\": {\n");
        json.Append("    \"calibration\": ").Append(Text(Relative(calibrationPath))).Append(", \"test\": ").Append(Text(Relative(testPath))).Append(",\n");
        json.Append("    \"inputColumns\": ").Append(Strings(options.InputColumns)).Append(", \"targetColumns\": ").Append(Strings(options.TargetColumns)).Append(",\n");
        json.Append("    \"normalization\": {\n");
        json.Append("      \"mean\": ").Append(Numbers(normalization.Mean)).Append(",\n");
        json.Append("      \"std\": ").Append(Numbers(normalization.Std));
        if (normalization.TargetMean is { } targetMean && normalization.TargetStd is { } targetStd)
        {
            json.Append(",\n      \"targetMean\": ").Append(Numbers(targetMean));
            json.Append(",\n      \"targetStd\": ").Append(Numbers(targetStd));
        }
        json.Append("\n    }\n  }\n}\n");
        File.WriteAllText(path, json.ToString(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    }
}
