namespace TransformerFpga.Hardware;

/// <summary>
/// Where synthesis puts a module's ROM constants. Yosys' memory_libmap takes the cheaper of block RAM
/// (cost 129 per RAMB18 in its Xilinx library) and soft logic (1/64 per bit for a ROM): a ROM goes to
/// block RAM only when its bits exceed 64 × 129 × the RAMB18s it needs. So 768 × 24 (2 RAMB18) is block
/// RAM, while 576 × 22 or a wide lane ROM (2 RAMB18 for few words) stays in LUTs (measured on generated
/// designs).
/// </summary>
public static class RomBlocks
{
    private const double BlockRamCost = 129, LogicCostPerBit = 1.0 / 64;

    public static bool IsBlock(RomShape rom) => rom.Bits * LogicCostPerBit > BlockRamCost * BufferResources.BlockRam18(rom.Depth, rom.Width);

    public static long LutRomBits(VhdlModule m) => m.Roms.Where(r => !IsBlock(r)).Sum(r => r.Bits);

    public static int Bram18(VhdlModule m) => m.Roms.Where(IsBlock).Sum(r => BufferResources.BlockRam18(r.Depth, r.Width));
}
