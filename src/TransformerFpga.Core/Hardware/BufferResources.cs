namespace TransformerFpga.Hardware;

/// <summary>The resource model's view of the buffer RAMs (tfpga_buffer.vhd): depth × width and ram_style.</summary>
public static class BufferResources
{
    public static (long Depth, int Width) Shape(VhdlModule m) => (m["DEPTH"], m.PortWidth("wr_data"));

    /// <summary>The RAMB18 halves of a block buffer.</summary>
    public static int BlockRam18(VhdlModule m)
    {
        var (depth, width) = Shape(m);
        return BlockRam18(depth, width);
    }

    /// <summary>RAMB18 halves for a buffer of depth × width, laid out as Yosys lays it (<see cref="BlockRamMapping"/>).</summary>
    public static int BlockRam18(long depth, int width) => BlockRamMapping.Cheapest(depth, width, written: true).Ramb18;

    /// <summary>
    /// LUTs of a distributed buffer's RAM: the cheaper of RAM32M (32 words × 6 bits in 4 LUTs) and RAM64M (64 × 3 in
    /// 4 LUTs) tilings, as Yosys picks them (exact on the 126 distributed buffers of the fit designs).
    /// </summary>
    public static int LutRam(VhdlModule m)
    {
        var (depth, width) = Shape(m);
        return LutRam(depth, width);
    }

    /// <summary>LUTs of a depth × width RAM in LUT RAM with one write and one read port, tiled as <see cref="LutRam(VhdlModule)"/>.</summary>
    public static int LutRam(long depth, int width) => 4 * DepthTiles(depth, width) * WidthTiles(depth, width);

    private static bool Uses64(long depth, int width) =>
        Ceiling(depth, 64) * Ceiling(width, 3) < Ceiling(depth, 32) * Ceiling(width, 6);

    private static int DepthTiles(long depth, int width) => (int)(Uses64(depth, width) ? Ceiling(depth, 64) : Ceiling(depth, 32));

    private static int WidthTiles(long depth, int width) => (int)(Uses64(depth, width) ? Ceiling(width, 3) : Ceiling(width, 6));

    private static long Ceiling(long value, long step) => (Math.Max(value, 2) + step - 1) / step;

    /// <summary>
    /// [1, width, width·(depth tiles − 1) (read mux), LUT RAM, banked, banked·width]; a block buffer has no read mux
    /// or LUT RAM (in a flattened design some read-data flip-flops land in it). "Banked" is 1 for one bank of a
    /// buffer split in column banks: flattened synthesis keeps almost no flip-flops in a bank (its read data
    /// goes through the top's bank multiplexer), so those two features take flip-flops away.
    /// </summary>
    public static double[] Features(VhdlModule m, bool block, int banks)
    {
        var (depth, width) = Shape(m);
        double banked = banks > 1 ? 1 : 0;
        return block ? [1, width, 0, 0, banked, banked * width] : [1, width, width * (DepthTiles(depth, width) - 1), LutRam(m), banked, banked * width];
    }
}
