namespace TransformerFpga.Hardware;

/// <summary>Where synthesis puts a module's ROM constants: LUTs (the usual case for these sizes) or block RAM.</summary>
public static class RomBlocks
{
    public static long LutRomBits(VhdlModule m) => m.RomBits;

    public static int Bram18(VhdlModule m) => 0;
}
