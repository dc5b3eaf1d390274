namespace TransformerFpga.Hardware;

/// <summary>The resource model's view of the buffer RAMs (tfpga_buffer.vhd): depth × width and ram_style.</summary>
public static class BufferResources
{
    /// <summary>RAMB18 simple-dual-port shapes, widest first: (depth, width).</summary>
    private static readonly (int Depth, int Width)[] Ramb18Shapes = [(512, 36), (1024, 18), (2048, 9), (4096, 4), (8192, 2), (16384, 1)];

    public static (long Depth, int Width) Shape(VhdlModule m) => (m["DEPTH"], m.PortWidth("wr_data"));

    /// <summary>ceil(W / width(D)) for the widest RAMB18 shape at least D deep; deeper buffers take RAMB36 pairs.</summary>
    public static int BlockRam18(VhdlModule m)
    {
        var (depth, width) = Shape(m);
        return BlockRam18(depth, width);
    }

    /// <summary>RAMB18 halves for a memory of depth × width.</summary>
    public static int BlockRam18(long depth, int width)
    {
        foreach (var (d, w) in Ramb18Shapes)
            if (depth <= d) return (width + w - 1) / w;
        long blocks = (depth + 16383) / 16384;
        return (int)(blocks * width);
    }

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
