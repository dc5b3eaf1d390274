using TransformerFpga.Hardware;

namespace TransformerFpga.Tests;

/// <summary>
/// The block-RAM rule against memories Yosys 0.23 (synth_xilinx, flattened) mapped in generated designs: the
/// counts below are what its netlists hold.
/// </summary>
[TestClass]
public sealed class BlockRamMappingTests
{
    private static RomShape Rom(int depth, int width) => new("W", depth, width, width);

    [TestMethod]
    public void DeepNarrowMemoriesAreFoldedIntoTheWidth()
    {
        // d704's 1152 × 12 weight ROM: three segments side by side in one 512 × 36 RAMB18 (cost 143 < 216 in logic)
        Assert.IsTrue(RomBlocks.IsBlock(Rom(1152, 12)));
        Assert.AreEqual(1, BlockRamMapping.Cheapest(1152, 12, written: false).Ramb18);
        // d701's 5120 × 5 buffer: written words padded to 9-bit bytes, three 2K × 9 RAMB18 (not one RAMB36)
        Assert.AreEqual(3, BufferResources.BlockRam18(5120, 5));
    }

    [TestMethod]
    public void RomsStayInLogicUnlessBlockRamIsStrictlyCheaper()
    {
        // 768 × 24 is one RAMB36 (259 < 288); 576 × 22 would take 259 (one RAMB36) against 198 in logic
        Assert.IsTrue(RomBlocks.IsBlock(Rom(768, 24)));
        Assert.AreEqual(2, BlockRamMapping.Cheapest(768, 24, written: false).Ramb18);
        Assert.IsFalse(RomBlocks.IsBlock(Rom(576, 22)));
        // constant bit columns are removed before the choice: 1152 words with 2 varying bits cost 36 in logic
        Assert.IsFalse(RomBlocks.IsBlock(new RomShape("W", 1152, 12, 2)));
        Assert.IsFalse(RomBlocks.IsBlock(new RomShape("W", 1152, 12, 0)));
    }
}
