using System.Globalization;
using TransformerFpga.Model;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Tests;

[TestClass]
public sealed class DeterminismTests
{
    private static Dictionary<string, byte[]> Snapshot(string directory) =>
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(directory, f).Replace('\\', '/'), File.ReadAllBytes);

    [TestMethod]
    public void OutputsAreByteIdenticalUnderAnyCulture()
    {
        using var folder = new TestFolder();
        SyntheticModel.Write(folder.File("model"), new SyntheticModelSpec(DModel: 8, Heads: 2), seed: 9);
        string project = folder.File("Hardware.csproj");
        File.WriteAllText(project, "<Project />");
        var snapshots = new List<Dictionary<string, byte[]>>();
        var original = CultureInfo.CurrentCulture;
        try
        {
            foreach (var culture in new[] { "de-DE", "tr-TR", "", "en-US" })
            {
                CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo(culture);
                string output = folder.File("out-" + (culture == "" ? "invariant" : culture));
                var request = new BuildRequest(project, ["model/synthetic.json"], [], [], [], new BuildSettings { OutputDir = output, BudgetAsWarning = true });
                var outcome = FpgaBuild.Run(request);
                Assert.IsTrue(outcome.Success, string.Join("; ", outcome.Diagnostics));
                snapshots.Add(Snapshot(output));
            }
        }
        finally
        {
            CultureInfo.CurrentCulture = original;
        }
        foreach (var other in snapshots.Skip(1))
        {
            CollectionAssert.AreEquivalent(snapshots[0].Keys.ToList(), other.Keys.ToList());
            foreach (var (file, bytes) in snapshots[0])
                CollectionAssert.AreEqual(bytes, other[file], file);
        }
        foreach (var (file, bytes) in snapshots[0])
        {
            string text = System.Text.Encoding.UTF8.GetString(bytes);
            Assert.IsFalse(text.Contains(folder.Path, StringComparison.Ordinal), $"{file} contains an absolute path");
        }
    }

    [TestMethod]
    public void RebuildWithSameInputsRewritesNothing()
    {
        using var folder = new TestFolder();
        SyntheticModel.Write(folder.File("model"), new SyntheticModelSpec(), seed: 9);
        string project = folder.File("Hardware.csproj");
        File.WriteAllText(project, "<Project />");
        var request = new BuildRequest(project, ["model/synthetic.json"], [], [], [], new BuildSettings { OutputDir = folder.File("out"), BudgetAsWarning = true });
        Assert.IsTrue(FpgaBuild.Run(request).Success);
        var before = Directory.EnumerateFiles(folder.File("out"), "*", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc);
        Thread.Sleep(50);
        Assert.IsTrue(FpgaBuild.Run(request).Success);
        foreach (var (file, time) in before)
            Assert.AreEqual(time, File.GetLastWriteTimeUtc(file), file);
    }
}
