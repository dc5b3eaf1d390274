namespace TransformerFpga.Build.Tests;

/// <summary>FpgaConstraints items reach vivado/build.tcl through the targets and the task, both ways of consuming the package.</summary>
[TestClass]
public sealed class BoardEndToEndTests
{
    [TestMethod]
    [DataRow(Consumption.PackageReference)]
    [DataRow(Consumption.ProjectSdk)]
    public void ConstraintsItemSelectsTheBoardFlowAndRemovingItRegenerates(Consumption consumption)
    {
        var project = new HardwareProject(consumption, "board");
        string board = Path.Combine(project.Directory, "board", "pins.xdc");
        Directory.CreateDirectory(Path.GetDirectoryName(board)!);
        File.WriteAllText(board, "set_property PACKAGE_PIN M9 [get_ports clk]\n");
        project.WriteProject("""<FpgaConstraints Include="board/pins.xdc" />""");
        EndToEndTests.AssertSucceeded(project.Build());
        string tcl = File.ReadAllText(Path.Combine(project.OutputDir, "vivado", "build.tcl"));
        StringAssert.Contains(tcl, "read_xdc \"" + board + "\"\n");
        StringAssert.Contains(tcl, "write_bitstream");
        Assert.IsFalse(tcl.Contains("out_of_context", StringComparison.Ordinal), tcl);

        // The item list is part of the build's state: dropping the item regenerates the out-of-context flow.
        project.WriteProject();
        EndToEndTests.AssertSucceeded(project.Build());
        tcl = File.ReadAllText(Path.Combine(project.OutputDir, "vivado", "build.tcl"));
        StringAssert.Contains(tcl, "-mode out_of_context");
        Assert.IsFalse(tcl.Contains(board, StringComparison.Ordinal), tcl);
        Assert.IsFalse(tcl.Contains("write_bitstream", StringComparison.Ordinal), tcl);

        // A board file that does not exist is a coded error.
        project.WriteProject("""<FpgaConstraints Include="board/missing.xdc" />""");
        EndToEndTests.AssertFailedWith(project.Build(), "TFPGA031", project.ProjectFile);
    }
}
