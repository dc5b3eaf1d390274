using TransformerFpga.Hardware;
using TransformerFpga.Quantization;

namespace TransformerFpga.Layers.Attention;

/// <summary>
/// Integer softmax over each row of scores:
///   e_j = Exp[(max - s_j) >> r]  (a ROM of round(2^15·exp(-(i·2^r)·S_in)); 0 past its end),
///   R = floor(2^40 / Σ_j e_j),  p_j = min(Q, (e_j·R·Q + 2^39) >> 40),  Q = 2^b - 1.
/// A probability is never negative, so the output is b-bit unsigned (<see cref="QuantScale.Unsigned"/>, 0..Q) at the
/// fixed scale 1/Q: probability 1 is Q, with twice the steps a signed b-bit value would have. The row maximum makes e_max = 2^15,
/// so the sum is never zero. r > 0 only when the input has more than 10 bits of useful range.
/// </summary>
public sealed class SoftmaxLayer : QuantizedLayer
{
    public const int ExpFractionBits = 15;
    public const int ReciprocalBits = 40;
    public const int MaxTableLength = 1024;

    private SoftmaxLayer(string name, QuantScale output, int[] expTable, int indexShift, QuantizedLayer source)
        : base(name, LayerKind.Softmax, output, source.Rows, source.Columns, source)
    {
        ExpTable = expTable;
        IndexShift = indexShift;
    }

    public int[] ExpTable { get; }
    public int IndexShift { get; }

    /// <summary>Unsigned b bits at scale 1/Q, Q = 2^b - 1.</summary>
    public static QuantScale OutputScale(int bits) => new(1.0 / ((1 << bits) - 1), bits, Unsigned: true);

    public static SoftmaxLayer Quantize(string name, QuantizedLayer source, int outputBits)
    {
        double inputScale = source.Output.Scale;
        long maxDifference = (1L << source.Output.Bits) - 1;
        // exp(-d·S)·2^15 rounds to 0 once d·S > ln(2^16); entries past that are not stored.
        long span = Math.Min(maxDifference, (long)Math.Ceiling(Math.Log(65536) / inputScale));
        int shift = 0;
        while ((span >> shift) >= MaxTableLength) shift++;
        int length = (int)(span >> shift) + 1;
        var table = new int[length];
        for (int i = 0; i < length; i++)
            table[i] = (int)IntegerMath.RoundHalfAway(Math.Pow(2, ExpFractionBits) * Math.Exp(-((long)i << shift) * inputScale));
        while (length > 1 && table[length - 1] == 0) length--;
        return new SoftmaxLayer(name, OutputScale(outputBits), table[..length], shift, source);
    }

    public int Exp(long difference)
    {
        long index = difference >> IndexShift;
        return index < ExpTable.Length ? ExpTable[index] : 0;
    }

    public override LayerDatapath Datapath => new SoftmaxHardware(this);

    public override void Simulate(SimulationWorkspace workspace)
    {
        var s = workspace.Of(Sources[0]);
        var p = workspace.Of(this);
        int w = Columns;
        long q = Output.Max;
        var e = workspace.ScratchOf(w);
        for (int row = 0; row < Rows; row++)
        {
            int offset = row * w;
            int max = int.MinValue;
            for (int j = 0; j < w; j++) max = Math.Max(max, s[offset + j]);
            long sum = 0;
            for (int j = 0; j < w; j++) sum += e[j] = Exp((long)max - s[offset + j]);
            long reciprocal = (1L << ReciprocalBits) / sum;
            for (int j = 0; j < w; j++)
                p[offset + j] = (int)Math.Min(q, (e[j] * reciprocal * q + (1L << (ReciprocalBits - 1))) >> ReciprocalBits);
        }
    }
}
