namespace TransformerFpga.Hardware;

/// <summary>The resource model's view of the buffer RAMs (tfpga_buffer.vhd): depth × width and ram_style.</summary>
public static class BufferResources
{
    /// <summary>RAMB18 simple-dual-port shapes, widest first: (depth, width).</summary>
    private static readonly (int Depth, int Width)[] Ramb18Shapes = [(512, 36), (1024, 18), (2048, 9), (4096, 4), (8192, 2), (16384, 1)];

    public static (long Depth, int Width) Shape(VhdlModule m) => (m["DEPTH"], m.PortWidth("wr_data"));

    /// <summary>The RAMB18 halves of a block buffer.</summary>
    public static int BlockRam18(VhdlModule m)
    {
        var (depth, width) = Shape(m);
        return BlockRam18(depth, width);
    }

    /// <summary>
    /// RAMB18 halves for a memory of depth × width, as Yosys' memory_libmap maps it (measured on generated designs):
    /// the cheapest tiling by one RAMB18 shape, cascaded in depth and side by side in width (2304 × 32 takes five
    /// 512 × 36 blocks, not eight 4K × 4); a memory of at most 36 Kb that would take three or more goes into one
    /// RAMB36, two halves (1152 × 22, 4608 × 8, 9216 × 4).
    /// </summary>
    public static int BlockRam18(long depth, int width)
    {
        int tiles = Ramb18Shapes.Min(s => (int)((Math.Max(depth, 1) + s.Depth - 1) / s.Depth) * ((width + s.Width - 1) / s.Width));
        return depth * width <= Ramb36Bits ? Math.Min(tiles, 2) : tiles;
    }

    private const long Ramb36Bits = 36 * 1024;

    /// <summary>
    /// LUTs of a distributed buffer's RAM: the cheaper of RAM32M (32 words × 6 bits in 4 LUTs) and RAM64M (64 × 3 in
    /// 4 LUTs) tilings, as Yosys picks them (exact on the 126 distributed buffers of the fit designs).
    /// </summary>
    public static int LutRam(VhdlModule m)
    {
        var (depth, width) = Shape(m);
        return 4 * DepthTiles(depth, width) * WidthTiles(depth, width);
    }

    private static bool Uses64(long depth, int width) =>
        Ceiling(depth, 64) * Ceiling(width, 3) < Ceiling(depth, 32) * Ceiling(width, 6);

    private static int DepthTiles(long depth, int width) => (int)(Uses64(depth, width) ? Ceiling(depth, 64) : Ceiling(depth, 32));

    private static int WidthTiles(long depth, int width) => (int)(Uses64(depth, width) ? Ceiling(width, 3) : Ceiling(width, 6));

    private static long Ceiling(long value, long step) => (Math.Max(value, 2) + step - 1) / step;

    /// <summary>[1, width, width·(depth tiles − 1) (read mux), LUT RAM]; a block buffer: [1, width, 0, 0] (in a flattened design some read-data flip-flops land in it).</summary>
    public static double[] Features(VhdlModule m, bool block)
    {
        var (depth, width) = Shape(m);
        return block ? [1, width, 0, 0] : [1, width, width * (DepthTiles(depth, width) - 1), LutRam(m)];
    }
}
