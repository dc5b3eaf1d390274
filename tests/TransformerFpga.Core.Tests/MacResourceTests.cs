using TransformerFpga.Hardware;
using TransformerFpga.Hdl;

namespace TransformerFpga.Tests;

/// <summary>The DSP and register counting rules of the pipelined MAC templates.</summary>
[TestClass]
public sealed class MacResourceTests
{
    [TestMethod]
    public void RequantizerMagnitudeProductTakesOnlyTheDspsItNeeds()
    {
        // 18-bit magnitude × an 11-bit M0: one 24 × 17 partial product (the sign-extended signed form took two)
        Assert.AreEqual(1, DspRule.Unsigned(18, 1461));
        Assert.AreEqual(2, DspRule.ByConstant(18, 1461, 12));
        // a magnitude wider than 24 bits needs a second partial product
        Assert.AreEqual(2, DspRule.Unsigned(30, 1461));
        // powers of two are shifts, and zero is nothing
        Assert.AreEqual(0, DspRule.Unsigned(30, 1024));
        Assert.AreEqual(0, DspRule.Unsigned(30, 0));
        // small products stay in LUTs
        Assert.AreEqual(0, DspRule.Unsigned(4, 3));
    }

    [TestMethod]
    public void LutMultiplierRegistersThePartialSumsOfHalfItsTree()
    {
        // b's bits rounded up to even partial products; the register after ceil(levels / 2) levels
        Assert.AreEqual(1, Multipliers.TreeParts(2));
        Assert.AreEqual(2, Multipliers.TreeParts(3));
        Assert.AreEqual(2, Multipliers.TreeParts(4));
        Assert.AreEqual(2, Multipliers.TreeParts(8));
        Assert.AreEqual(3, Multipliers.TreeParts(10));
        Assert.AreEqual(4, Multipliers.TreeParts(16));
    }
}
