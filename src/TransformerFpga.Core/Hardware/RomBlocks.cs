namespace TransformerFpga.Hardware;

/// <summary>
/// Where synthesis puts a module's ROM constants: synth_xilinx maps a ROM of more than 8 Kbit to block
/// RAM (shapes as for the buffers) and builds smaller ones from LUTs (measured on generated designs).
/// </summary>
public static class RomBlocks
{
    public const long BlockRamThresholdBits = 8192;

    public static bool IsBlock(RomShape rom) => rom.Bits > BlockRamThresholdBits;

    public static long LutRomBits(VhdlModule m) => m.Roms.Where(r => !IsBlock(r)).Sum(r => r.Bits);

    public static int Bram18(VhdlModule m) => m.Roms.Where(IsBlock).Sum(r => BufferResources.BlockRam18(r.Depth, r.Width));
}
