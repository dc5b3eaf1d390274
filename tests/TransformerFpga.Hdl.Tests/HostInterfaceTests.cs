using System.Globalization;
using System.Text;
using System.Text.Json;
using TransformerFpga.Data;
using TransformerFpga.Integer;
using TransformerFpga.Model;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Hdl.Tests;

/// <summary>
/// hdl/&lt;top&gt;_io.h compiled into a small C program converts physical windows to x_wr_data words and y_rd_data
/// words back to physical values exactly as the simulator does.
/// </summary>
[TestClass]
public sealed class HostInterfaceTests
{
    private const string Program = """
        #include <stdio.h>
        #include "host_io_io.h"
        /* q: windows of physical values -> x words; d: raw y words -> physical values */
        int main(int argc, char **argv)
        {
            int n;
            if (argc < 2 || scanf("%d", &n) != 1) return 2;
            for (int w = 0; w < n; w++) {
                if (argv[1][0] == 'q') {
                    double window[HOST_IO_INPUT_WORDS];
                    int32_t x[HOST_IO_INPUT_WORDS];
                    for (int i = 0; i < HOST_IO_INPUT_WORDS; i++) if (scanf("%lf", &window[i]) != 1) return 3;
                    host_io_quantize_window(window, x);
                    for (int i = 0; i < HOST_IO_INPUT_WORDS; i++) printf("%d\n", (int)x[i]);
                } else {
                    uint32_t words[HOST_IO_OUTPUT_FEATURES];
                    double y[HOST_IO_OUTPUT_FEATURES];
                    for (int k = 0; k < HOST_IO_OUTPUT_FEATURES; k++) if (scanf("%u", &words[k]) != 1) return 3;
                    host_io_dequantize_outputs(words, y);
                    for (int k = 0; k < HOST_IO_OUTPUT_FEATURES; k++) printf("%.17g\n", y[k]);
                }
            }
            return 0;
        }
        """;

    [TestMethod]
    public void HeaderConvertsLikeTheSimulator()
    {
        string cc = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, "cc")).FirstOrDefault(File.Exists) ?? "";
        Assert.IsTrue(cc.Length > 0, "cc is not on PATH (Debian/Ubuntu: apt-get install gcc)");
        using var folder = new TestFolder();
        var spec = new SyntheticModelSpec(Window: 6, InputFeatures: 3, OutputFeatures: 2);
        string modelFile = SyntheticModel.Write(folder.File("model"), spec, seed: 21);
        string project = folder.File("hw.csproj");
        File.WriteAllText(project, "<Project />");
        string output = folder.File("out");
        // Input and output widths other than the defaults, so the header's bits are exercised.
        var precision = new[]
        {
            new LayerItem("embedding", new Dictionary<string, string> { ["ActivationBits"] = "6" }),
            new LayerItem("head", new Dictionary<string, string> { ["ActivationBits"] = "11" }),
        };
        var outcome = FpgaBuild.Run(new BuildRequest(project, [Path.GetRelativePath(folder.Path, modelFile)], precision, [], [],
            new BuildSettings { OutputDir = output, TopName = "Host IO", BudgetAsWarning = true }));
        Assert.IsTrue(outcome.Success, string.Join("\n", outcome.Diagnostics));

        var config = ModelLoader.LoadConfig(modelFile);
        var evaluation = new ModelEvaluation(config, TransformerWeights.Load(config));
        var model = evaluation.Quantize(name => name switch
        {
            "embedding" => new LayerBits(8, 6),
            "head" => new LayerBits(8, 11),
            _ => new LayerBits(8, 8),
        });
        var result = evaluation.Evaluate(model);

        // The JSON carries the normalization the build used (here computed from the calibration CSV).
        using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "hdl", "host_io_io.json"))))
        {
            var features = json.RootElement.GetProperty("x").GetProperty("features").EnumerateArray().ToList();
            Assert.AreEqual(3, features.Count);
            for (int f = 0; f < 3; f++)
            {
                Assert.AreEqual(config.Data.InputColumns[f], features[f].GetProperty("column").GetString());
                Assert.AreEqual(config.Data.InputMean[f], features[f].GetProperty("mean").GetDouble());
                Assert.AreEqual(config.Data.InputStd[f], features[f].GetProperty("std").GetDouble());
            }
            Assert.AreEqual(6, json.RootElement.GetProperty("x").GetProperty("bits").GetInt32());
            Assert.AreEqual(11, json.RootElement.GetProperty("y").GetProperty("bits").GetInt32());
        }

        string hdl = Path.Combine(output, "hdl");
        File.WriteAllText(Path.Combine(hdl, "host_test.c"), Program);
        var (built, buildLog) = Ghdl.Run(cc, "-std=c99 -Wall -Wextra -Werror -ffp-contract=off -O2 -o host_test host_test.c", hdl);
        Assert.AreEqual(0, built, buildLog);

        // Windows: every test window as physical CSV rows, plus one far outside the calibrated range (clamping both ways).
        var series = CsvSeries.Load(config.Data.TestPath, config.Data.InputColumns, config.Data.TargetColumns);
        int words = model.InputElements;
        var physical = new List<double[]>();
        var expected = new List<int[]>();
        for (int w = 0; w < evaluation.Test.Count; w++)
        {
            physical.Add(Enumerable.Range(0, words).Select(i => series.Inputs[w + i / 3][i % 3]).ToArray());
            var q = new int[words];
            model.QuantizeInput(evaluation.Test.Inputs[w], q);
            expected.Add(q);
        }
        var extreme = Enumerable.Range(0, words).Select(i => config.Data.InputMean[i % 3] + (i % 2 == 0 ? 1 : -1) * 1e3 * config.Data.InputStd[i % 3]).ToArray();
        physical.Add(extreme);
        var extremeQ = new int[words];
        model.QuantizeInput(extreme.Select((x, i) => (float)((x - config.Data.InputMean[i % 3]) / config.Data.InputStd[i % 3])).ToArray(), extremeQ);
        CollectionAssert.Contains(extremeQ, model.Input.Max);
        CollectionAssert.Contains(extremeQ, model.Input.Min);
        expected.Add(extremeQ);
        // Values at and next to every rounding boundary, where single-precision normalization and half-away rounding decide.
        double[] offsets = [0, 1e-9, -1e-9, 3e-8, -3e-8, 1e-7, -1e-7, 1e-6, -1e-6];
        var scale = model.Input;
        for (int o = 0; o < offsets.Length; o++)
            for (int start = scale.Min; start <= scale.Max; start += words)
            {
                var window = Enumerable.Range(0, words).Select(i =>
                    config.Data.InputMean[i % 3] + config.Data.InputStd[i % 3] * scale.Scale * (Math.Min(start + i, scale.Max) + 0.5 + offsets[o])).ToArray();
                var q = new int[words];
                model.QuantizeInput(window.Select((x, i) => (float)((x - config.Data.InputMean[i % 3]) / config.Data.InputStd[i % 3])).ToArray(), q);
                physical.Add(window);
                expected.Add(q);
            }

        var input = new StringBuilder().Append(physical.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var window in physical) input.Append(string.Join(" ", window.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))).Append('\n');
        var quantized = RunProgram(hdl, "q", input.ToString()).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        CollectionAssert.AreEqual(expected.SelectMany(q => q).ToArray(), quantized);

        // Outputs: the simulator's words of every test window, and every value of the output width as raw port bits.
        var outputWords = result.QuantizedOutputs.ToList();
        var yScale = model.OutputLayer.Output;
        for (int q = yScale.Min; q <= yScale.Max; q += 7) outputWords.Add([q, yScale.Max - (q - yScale.Min)]);
        var expectedY = result.IntegerPredictions.ToList();
        foreach (var q in outputWords.Skip(result.QuantizedOutputs.Length))
            expectedY.Add(evaluation.Denormalize(q.Select(v => yScale.Dequantize(v)).ToArray()));
        long mask = (1L << yScale.Bits) - 1;
        var raw = new StringBuilder().Append(outputWords.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var q in outputWords) raw.Append(string.Join(" ", q.Select(v => (v & mask).ToString(CultureInfo.InvariantCulture)))).Append('\n');
        var physicalY = RunProgram(hdl, "d", raw.ToString()).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        CollectionAssert.AreEqual(expectedY.SelectMany(y => y).ToArray(), physicalY);
    }

    private static string[] RunProgram(string directory, string mode, string input)
    {
        string inputFile = Path.Combine(directory, "host_test_" + mode + ".txt");
        File.WriteAllText(inputFile, input);
        var (code, log) = Ghdl.Run("/bin/sh", $"-c \"./host_test {mode} < host_test_{mode}.txt\"", directory);
        Assert.AreEqual(0, code, log);
        return log.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
