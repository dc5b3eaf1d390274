namespace TransformerFpga.Hardware;

/// <summary>
/// Where synthesis puts a module's ROM constants, by the cost rule of Yosys' memory_libmap: soft logic costs 1/64
/// per bit that is not constant over the ROM (constant bit columns are removed first), truncated to an integer;
/// block RAM wins only when its layout (<see cref="BlockRamMapping"/>) is strictly cheaper. A 1152 × 12 ROM
/// costs 143 in block RAM against 216 in logic; 576 × 22 costs 259 (a RAMB36) against 198. A ROM whose memory the
/// project chose (a WeightResource item: its rom_style) goes where it says.
/// </summary>
public static class RomBlocks
{
    private const double LogicCostPerBit = 1.0 / 64;

    public static bool IsBlock(RomShape rom) => rom.VaryingWidth > 0 && rom.Style switch
    {
        Pipeline.BufferResource.Block => true,
        Pipeline.BufferResource.Distributed => false,
        _ => BlockRamMapping.Cheapest(rom.Depth, rom.VaryingWidth, written: false).Cost < Math.Floor(rom.Depth * rom.VaryingWidth * LogicCostPerBit),
    };

    /// <summary>Bits of the ROMs left in logic that synthesis cannot fold to constants.</summary>
    public static long LutRomBits(VhdlModule m) => m.Roms.Where(r => !IsBlock(r)).Sum(r => (long)r.Depth * r.VaryingWidth);

    public static int Bram18(VhdlModule m) => m.Roms.Where(IsBlock).Sum(r => BlockRamMapping.Cheapest(r.Depth, r.VaryingWidth, written: false).Ramb18);
}
