namespace TransformerFpga.Hardware;

/// <summary>
/// How Yosys' memory_libmap (0.23, Xilinx 7-series library) lays a memory into block RAM: for each primitive mode
/// and data width it folds the depth that does not fit one cell into the width (segments side by side, read
/// through a multiplexer), pads a written word to 9-bit bytes, and takes the cheapest by its cost rule — 129 per
/// RAMB18 cell, 257 per RAMB36, 513 per cascaded pair, plus 0.5 per read-multiplexer input bit and per
/// write-enable copy, and 2 for the read port. So a 1152 × 12 ROM is one 512 × 36 RAMB18 (three segments) and a
/// 5120 × 5 buffer three 2K × 9 RAMB18.
/// </summary>
public static class BlockRamMapping
{
    private const double MuxCostPerBit = 0.5, DemuxCostPerEnable = 0.5, ReadPortCost = 2;
    private const int ByteWidth = 9;

    /// <summary>A primitive mode: cost per cell, address bits at width 1, data widths by log2 step, RAMB18 per cell.</summary>
    private sealed record Mode(double Cost, int AddressBits, int[] Widths, int Ramb18PerCell);

    private static readonly Mode[] Modes =
    [
        new(129, 14, [1, 2, 4, 9, 18, 36], 1),     // RAMB18 (36 bits wide in simple dual-port mode)
        new(257, 15, [1, 2, 4, 9, 18, 36, 72], 2), // RAMB36
        new(513, 16, [1, 2, 4, 9], 4),             // two cascaded RAMB36
    ];

    /// <summary>The cheapest block-RAM layout of a depth × width memory (written through one port or read-only): its cost and RAMB18.</summary>
    public static (double Cost, int Ramb18) Cheapest(long depth, int width, bool written)
    {
        var best = (Cost: double.MaxValue, Ramb18: 0);
        foreach (var mode in Modes)
            for (int log2 = 0; log2 < mode.Widths.Length; log2++)
            {
                int unit = mode.Widths[log2];
                int byteWidth = written ? Math.Min(ByteWidth, unit) : 1;
                long stored = (width + byteWidth - 1) / byteWidth * byteWidth;
                long words = 1L << (mode.AddressBits - log2);
                long segments = (Math.Max(depth, 1) + words - 1) / words;
                long cells = (segments * stored + unit - 1) / unit;
                double cost = mode.Cost * cells + MuxCostPerBit * (segments - 1) * width
                    + (written && segments > 1 ? DemuxCostPerEnable * segments : 0) + ReadPortCost;
                if (cost < best.Cost) best = (cost, (int)cells * mode.Ramb18PerCell);
            }
        return best;
    }
}
