using System.Globalization;
using TransformerFpga.Hardware;

namespace TransformerFpga.Hdl.Tests;

/// <summary>
/// The resource estimate held against Yosys synthesis of generated designs it was not fitted to
/// (the shipped coefficients come from seeds 401–412 of the wide space; these are 601–612 of the default space, drawn after the fit). The table goes to the
/// test output; docs/hardware.md quotes it.
/// </summary>
[TestClass]
public sealed class ResourceEstimateTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>
    /// Bounds on unseen designs: mean and worst |error| in % for LUT and FF, ± per design for RAMB18 and
    /// DSP, as the product promises them.
    /// </summary>
    private const double LutMean = 3, LutWorst = 8, FfMean = 3, FfWorst = 8;
    private const int BramTolerance = 1, DspTolerance = 1;

    [TestMethod]
    [Timeout(40 * 60 * 1000)]
    public void EstimateHoldsAgainstYosysOnUnseenDesigns()
    {
        Assert.IsTrue((Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(d => File.Exists(Path.Combine(d, "yosys"))),
            "yosys is not on PATH (Debian/Ubuntu: apt-get install yosys ghdl)");
        _ = Ghdl.Executable;
        using var folder = new TestFolder();
        var designs = Enumerable.Range(601, 12).Select(seed => SynthesisCheck.Generate(seed, folder.File("d" + seed.ToString(CultureInfo.InvariantCulture)))).ToList();
        var failures = new List<string>();
        Parallel.ForEach(designs, new ParallelOptions { MaxDegreeOfParallelism = 2 }, d =>
        {
            int code = SynthesisCheck.RunYosys(d.Folder, TimeSpan.FromMinutes(15));
            if (code != 0) lock (failures) failures.Add($"{d.Name}: yosys exit {code}");
        });
        Assert.AreEqual(0, failures.Count, string.Join("; ", failures));
        var comparisons = designs.Select(d => SynthesisCheck.Compare(d, ResourceCoefficients.Default)).ToList();
        string table = SynthesisCheck.Table(comparisons);
        TestContext.WriteLine(table);

        double[] Errors(string resource) => comparisons.Select(c => SynthesisCheck.Rows(c).Single(r => r.Name == resource))
            .Select(r => Calibration.ErrorValue(r.Name, r.Estimate, r.Synthesis)).ToArray();
        var lut = Errors("LUT");
        var ff = Errors("FF");
        Assert.IsTrue(lut.Average(Math.Abs) <= LutMean && lut.Max(Math.Abs) <= LutWorst, "LUT error out of bounds:\n" + table);
        Assert.IsTrue(ff.Average(Math.Abs) <= FfMean && ff.Max(Math.Abs) <= FfWorst, "FF error out of bounds:\n" + table);
        Assert.IsTrue(Errors("BRAM18").All(e => Math.Abs(e) <= BramTolerance), "RAMB18 off by more than 1:\n" + table);
        Assert.IsTrue(Errors("DSP").All(e => Math.Abs(e) <= DspTolerance), "DSP off by more than 1:\n" + table);
    }
}
