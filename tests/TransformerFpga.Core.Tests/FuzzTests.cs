using System.Diagnostics;
using System.Text;
using TransformerFpga.Data;
using TransformerFpga.Diagnostics;
using TransformerFpga.Model;

namespace TransformerFpga.Tests;

/// <summary>
/// Seeded random mutations of a valid model JSON, safetensors file and CSV: every case must end in
/// success or a coded <see cref="FpgaException"/>, never another exception or a hang.
/// </summary>
[TestClass]
public sealed class FuzzTests
{
    private static readonly int CasesPerFormat = int.TryParse(Environment.GetEnvironmentVariable("TFPGA_FUZZ_CASES"), out int n) ? n : 1500;
    private static readonly string[] Tokens = ["-1", "0", "1e309", "null", "\"", "{", "}", "[", "]", ",", ":", "999999999999", "\"x\"", "true", "NaN", "\n", "\u00e9", "\\"];

    private static string MutateText(string text, Random random)
    {
        var sb = new StringBuilder(text);
        int edits = 1 + random.Next(3);
        for (int e = 0; e < edits && sb.Length > 0; e++)
        {
            int at = random.Next(sb.Length);
            switch (random.Next(4))
            {
                case 0: sb.Remove(at, Math.Min(1 + random.Next(8), sb.Length - at)); break;
                case 1: sb.Insert(at, Tokens[random.Next(Tokens.Length)]); break;
                case 2: sb[at] = (char)random.Next(32, 127); break;
                default: sb.Length = at; break;
            }
        }
        return sb.ToString();
    }

    private static void Expect(Action action, string what, int index)
    {
        try { action(); }
        catch (FpgaException e) { Assert.IsTrue(e.Code.StartsWith("TFPGA0", StringComparison.Ordinal), $"{what} case {index}: code {e.Code}"); }
        catch (Exception e) { Assert.Fail($"{what} case {index}: unhandled {e.GetType().Name}: {e.Message}"); }
    }

    [TestMethod]
    public void MutatedModelJson()
    {
        using var folder = new TestFolder();
        string path = SyntheticModel.Write(folder.Path, new SyntheticModelSpec(Rows: 40), seed: 1);
        string valid = File.ReadAllText(path);
        var random = new Random(20261126);
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < CasesPerFormat; i++)
        {
            File.WriteAllText(path, MutateText(valid, random));
            Expect(() => TransformerWeights.Load(ModelLoader.LoadConfig(path, folder.Path)), "json", i);
        }
        Console.WriteLine($"{CasesPerFormat} JSON cases in {watch.Elapsed.TotalSeconds:F1} s");
    }

    [TestMethod]
    public void MutatedSafeTensors()
    {
        using var folder = new TestFolder();
        var config = ModelLoader.LoadConfig(SyntheticModel.Write(folder.Path, new SyntheticModelSpec(Rows: 40), seed: 1));
        byte[] valid = File.ReadAllBytes(config.WeightsPath);
        int headerEnd = 8 + (int)BitConverter.ToUInt64(valid, 0);
        var random = new Random(7);
        for (int i = 0; i < CasesPerFormat; i++)
        {
            byte[] bytes;
            if (random.Next(3) == 0)
            {
                bytes = (byte[])valid.Clone();
                int flips = 1 + random.Next(4);
                for (int f = 0; f < flips; f++)
                    bytes[random.Next(Math.Min(bytes.Length, headerEnd + 64))] = (byte)random.Next(256);
            }
            else
            {
                // Header-level edits keep the result parseable often enough to reach the deeper checks.
                string header = MutateText(Encoding.UTF8.GetString(valid, 8, headerEnd - 8), random);
                byte[] headerBytes = Encoding.UTF8.GetBytes(header);
                bytes = new byte[8 + headerBytes.Length + valid.Length - headerEnd];
                BitConverter.GetBytes((ulong)headerBytes.Length).CopyTo(bytes, 0);
                headerBytes.CopyTo(bytes, 8);
                valid.AsSpan(headerEnd).CopyTo(bytes.AsSpan(8 + headerBytes.Length));
            }
            Expect(() => TransformerWeights.FromTensors(config, SafeTensors.Parse(bytes, "fuzz.safetensors"), "fuzz.safetensors"), "safetensors", i);
        }
    }

    [TestMethod]
    public void MutatedCsv()
    {
        using var folder = new TestFolder();
        var config = ModelLoader.LoadConfig(SyntheticModel.Write(folder.Path, new SyntheticModelSpec(Rows: 40), seed: 1));
        string valid = File.ReadAllText(config.Data.TestPath);
        var random = new Random(11);
        for (int i = 0; i < CasesPerFormat; i++)
        {
            var lines = MutateText(valid, random).Split('\n');
            Expect(() =>
            {
                var series = CsvSeries.Parse(lines, "fuzz.csv", config.Data.InputColumns, config.Data.TargetColumns);
                _ = new WindowSet(series, config.Window, config.Data.InputMean, config.Data.InputStd);
            }, "csv", i);
        }
    }
}
