using TransformerFpga.Hardware;
using TransformerFpga.Pipeline;
using TransformerFpga.TestSupport;

namespace TransformerFpga.Build.Tests;

/// <summary>FpgaPowerReport through both packed packages: calibrate, incremental behaviour, reuse of the file, a coded error.</summary>
[TestClass]
public sealed class PowerEndToEndTests
{
    private const string ReportPath = "vivado-out/power.rpt";

    [TestMethod]
    [DataRow(Consumption.PackageReference)]
    [DataRow(Consumption.ProjectSdk)]
    public void PowerReportWritesTheFileThatLaterBuildsUse(Consumption consumption)
    {
        var project = new HardwareProject(consumption, "power-" + consumption).WriteProject();
        var request = new BuildRequest(project.ProjectFile, ["model/m.json"], [], [], [], new BuildSettings { OutputDir = project.OutputDir });
        var (design, _) = VivadoReports.DesignOf(request);
        Directory.CreateDirectory(Path.Combine(project.Directory, "vivado-out"));
        string report = Path.Combine(project.Directory, ReportPath);
        File.WriteAllText(report, VivadoPowerReports.Text(design.Top, "xc7s15ftgb196-1", 0.004, 0.002, 0.003, 0.001, 0.002, 0.007, 0.021,
            VivadoPowerReports.Children(request)).Replace("\n", "\r\n", StringComparison.Ordinal));
        string calibrationFile = Path.Combine(project.Directory, PowerCalibration.FileName);

        var first = project.Build("-p:FpgaPowerReport=" + ReportPath);
        EndToEndTests.AssertSucceeded(first);
        StringAssert.Contains(first.Output, "µJ per inference");
        StringAssert.Contains(first.Output, "power calibration against power.rpt");
        Assert.IsTrue(File.Exists(calibrationFile), "fpga-power-calibration.json not written beside the project");

        // Writing the calibration file does not make the next build with the same report run again.
        var again = project.Build("-v:d", "-p:FpgaPowerReport=" + ReportPath);
        EndToEndTests.AssertSucceeded(again);
        StringAssert.Contains(again.Output, EndToEndTests.SkipMessage);

        // A new report is an input change.
        File.SetLastWriteTimeUtc(report, DateTime.UtcNow.AddSeconds(5));
        var changed = project.Build("-v:d", "-p:FpgaPowerReport=" + ReportPath);
        EndToEndTests.AssertSucceeded(changed);
        EndToEndTests.AssertRan(changed, "a newer FpgaPowerReport");

        // Without the property the build runs and estimates with the file.
        var later = project.Build("-v:d");
        EndToEndTests.AssertSucceeded(later);
        EndToEndTests.AssertRan(later, "dropping FpgaPowerReport");
        StringAssert.Contains(later.Output, "power estimate calibrated by " + calibrationFile);

        var missing = project.Build("-p:FpgaPowerReport=missing.rpt");
        EndToEndTests.AssertFailedWith(missing, "TFPGA044", Path.Combine(project.Directory, "missing.rpt"));
    }
}
