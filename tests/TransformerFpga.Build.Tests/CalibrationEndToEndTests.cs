using TransformerFpga.Hardware;
using TransformerFpga.Pipeline;
using TransformerFpga.TestSupport;

namespace TransformerFpga.Build.Tests;

/// <summary>FpgaCalibrationReport through the packed package: calibrate, reuse the file, incremental behaviour, a coded error.</summary>
[TestClass]
public sealed class CalibrationEndToEndTests
{
    private const string ReportPath = "vivado-out/utilization_hierarchical.rpt";

    [TestMethod]
    public void CalibrationReportWritesTheFileThatLaterBuildsUse()
    {
        // One datapath per layer: the report below has a row per layer entity.
        var project = new HardwareProject(Consumption.ProjectSdk, "calibration").WriteProject(properties: "<FpgaArchitecture>Layers</FpgaArchitecture>");
        // The report of the design this project generates, with Vivado using 20 % more LUTs and 10 % fewer FFs than estimated.
        var request = new BuildRequest(project.ProjectFile, ["model/m.json"], [], [], [], new BuildSettings { OutputDir = project.OutputDir, Architecture = "Layers" });
        var (design, modules) = VivadoReports.DesignOf(request);
        var rows = VivadoReports.Rows(design, modules, m => VivadoReports.Scaled(ResourceModel.Estimate(m, design, ResourceCoefficients.Default), 1.2, 0.9));
        Directory.CreateDirectory(Path.Combine(project.Directory, "vivado-out"));
        VivadoReports.WriteFile(Path.Combine(project.Directory, ReportPath), VivadoReports.Format(rows, ReportLayout.Vivado2020, "\r\n"));
        string calibrationFile = Path.Combine(project.Directory, Calibration.FileName);

        var calibrating = project.Build("-p:FpgaCalibrationReport=" + ReportPath);
        EndToEndTests.AssertSucceeded(calibrating);
        StringAssert.Contains(calibrating.Output, "calibration against utilization_hierarchical.rpt");
        Assert.IsTrue(File.Exists(calibrationFile), "fpga-calibration.json not written beside the project");
        Assert.IsTrue(File.Exists(Path.Combine(project.OutputDir, "report", "calibration.json")));

        // Writing fpga-calibration.json does not make the next build with the same report run again.
        var again = project.Build("-v:d", "-p:FpgaCalibrationReport=" + ReportPath);
        EndToEndTests.AssertSucceeded(again);
        StringAssert.Contains(again.Output, EndToEndTests.SkipMessage);

        // Without the property the build runs (the configuration changed) and estimates with the file.
        var later = project.Build("-v:d");
        EndToEndTests.AssertSucceeded(later);
        EndToEndTests.AssertRan(later, "dropping FpgaCalibrationReport");
        StringAssert.Contains(later.Output, "resource estimate calibrated by " + calibrationFile);

        var missing = project.Build("-p:FpgaCalibrationReport=missing.rpt");
        EndToEndTests.AssertFailedWith(missing, "TFPGA040", Path.Combine(project.Directory, "missing.rpt"));
    }
}
