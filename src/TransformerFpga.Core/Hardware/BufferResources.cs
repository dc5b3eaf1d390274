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

    /// <summary>RAM32M cells (32 words × 6 bits in 4 LUTs) per 32 words and 6 bits.</summary>
    public static int LutRam(VhdlModule m)
    {
        var (depth, width) = Shape(m);
        return (int)(4 * ((Math.Max(depth, 2) + 31) / 32) * ((width + 5) / 6));
    }

    /// <summary>[1, width, width·(banks − 1) (read mux), LUT RAM].</summary>
    public static double[] Features(VhdlModule m, bool block)
    {
        var (depth, width) = Shape(m);
        long banks = (Math.Max(depth, 2) + 31) / 32;
        return block ? [1, 0, 0, 0] : [1, width, width * (banks - 1), LutRam(m)];
    }
}
