namespace TransformerFpga.Hdl.Tests;

[TestClass]
public sealed class TemplateTests
{
    /// <summary>Every embedded template analyses on its own (after the shared package, which they use).</summary>
    [TestMethod]
    public void EveryTemplateAnalysesAlone()
    {
        string ghdl = Ghdl.Executable;
        var names = VhdlTemplate.Names;
        CollectionAssert.IsSubsetOf(new[] { "tfpga_pkg.vhd", "tfpga_buffer.vhd", "tfpga_rdmux.vhd", "tfpga_top.vhd", "tb_tfpga_top.vhd",
            "linear.vhd", "posenc.vhd", "scores.vhd", "softmax.vhd", "context.vhd", "residual.vhd", "batchnorm.vhd", "layernorm.vhd", "pool.vhd" }, names.ToArray());
        foreach (string name in names)
        {
            using var folder = new TestFolder();
            var files = new List<string> { HdlGenerator.PackageFile };
            if (name == HdlGenerator.TestbenchFile) files.Add(HdlGenerator.TopFile);
            if (!files.Contains(name)) files.Add(name);
            foreach (string f in files) File.WriteAllText(folder.File(f), VhdlTemplate.Load(f).ToString());
            foreach (string f in files)
            {
                var (code, output) = Ghdl.Run(ghdl, "-a --std=08 " + f, folder.Path);
                Assert.AreEqual(0, code, $"{name}: ghdl -a {f} failed:\n{output}");
            }
        }
    }

    /// <summary>
    /// No template chooses data in a case's "others" branch: GHDL's Verilog output (the Yosys flow) drops that data, and
    /// Yosys then removes whatever fed it (a case over a two-bit select lost the engine's second-source operand so).
    /// </summary>
    [TestMethod]
    public void NoTemplateChoosesDataInACasesOthersBranch()
    {
        foreach (string name in VhdlTemplate.Names)
            Assert.IsFalse(System.Text.RegularExpressions.Regex.IsMatch(VhdlTemplate.Load(name).ToString(), @"when\s+others\s*=>", System.Text.RegularExpressions.RegexOptions.IgnoreCase),
                $"{name} has a case with an others branch; use an if or a conditional assignment");
    }

    [TestMethod]
    public void IdentifiersAreSanitized()
    {
        Assert.AreEqual("forecaster", Vhdl.Identifier("Forecaster"));
        Assert.AreEqual("my_model_v2", Vhdl.Identifier("my--model  v2_"));
        Assert.AreEqual("m_2fast", Vhdl.Identifier("2fast"));
        Assert.AreEqual("entity_0", Vhdl.Identifier("entity"));
        Assert.AreEqual("top_tfpga_rdmux", Vhdl.TopIdentifier("tfpga_rdmux"));
        Assert.AreEqual("top_tb_x", Vhdl.TopIdentifier("tb_x"));
        string a = Vhdl.Identifier(new string('a', 240) + "1"), b = Vhdl.Identifier(new string('a', 240) + "2");
        Assert.IsTrue(a.Length <= Vhdl.MaxIdentifierLength, a);
        Assert.AreNotEqual(a, b);
        Assert.AreEqual("top", Vhdl.Identifier("__"));
        Assert.AreEqual("encoder0_attn_q", Vhdl.Identifier("encoder0.attn.q"));
    }

    [TestMethod]
    public void BitLiteralsAreTwosComplement()
    {
        Assert.AreEqual("\"1101\"", Vhdl.Bits(-3, 4));
        Assert.AreEqual("\"0111\"", Vhdl.Bits(7, 4));
        Assert.AreEqual("\"1000000000000000\"", Vhdl.UnsignedBits(32768, 16));
        Assert.AreEqual(41, Vhdl.Bits(1L << 39, 41).Length - 2);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Vhdl.Bits(8, 4));
    }
}
