using TransformerFpga.Hardware;
using TransformerFpga.Hdl;
using TransformerFpga.Layers.Linear;
using TransformerFpga.Pipeline;
using TransformerFpga.Quantization;

namespace TransformerFpga.Engine;

/// <summary>
/// The register-to-register paths of the shared MAC engine (engine.vhd) and of its multiplexers in the top, derived
/// from their structure as <see cref="MacTiming"/> does for the per-layer templates.
/// </summary>
public static class EngineTiming
{
    /// <summary>The deepest path of the engine in <paramref name="design"/>.</summary>
    public static TimingPath CriticalPath(HdlGenerator.Design design) => Paths(design).MaxBy(p => p.Nanoseconds)!;

    public static IEnumerable<TimingPath> Paths(HdlGenerator.Design design)
    {
        var engine = design.Engine ?? throw new ArgumentException("the design has no engine", nameof(design));
        var engineLayers = design.EngineLayers.ToList();
        int ab = engine.ABits, bb = engine.BBits, acc = engine.AccumulatorBits, m0 = engine.M0Bits;
        int requant = acc + m0;
        int addressBits = engineLayers.SelectMany(l => l.Sources.Append(l.Output)).Max(b => b.ElementAddressBits);
        addressBits = Math.Max(addressBits, Vhdl.AddressBits(Math.Max(engine.WeightAddressDepth, 2)));
        // the step's source among the engine's steps: the step compare, then a 4:1 multiplexer level per LUT
        int muxLevels = 1 + Levels(engineLayers.Count);
        var sources = engineLayers.SelectMany(l => l.Sources).Distinct().ToList();
        bool blockSource = sources.Any(b => b.Resource == BufferResource.Block);

        // issue and write counters: the nested wraps compare two counters with their limits (carry chains), then the
        // selects of the next address
        int countBits = IntegerMath.BitLength(engine.Jobs.Max(j => (long)Math.Max(Math.Max(j.Heads, j.Rows), Math.Max(j.Outputs, j.Words))) - 1);
        yield return MacTiming.Finish(TimingPath.FromRegister().Adder(countBits).Adder(countBits).Luts(3));
        yield return MacTiming.Finish(TimingPath.FromRegister().Adder(addressBits).Luts(2));
        // the step's job at start (a LUT ROM), then the job's fields (LUT ROMs; the rounding bit's decode after its table)
        yield return MacTiming.Finish(TimingPath.FromRegister().Luts(1 + Levels(design.Layers.Count)));
        yield return MacTiming.Finish(TimingPath.FromRegister().Luts(2 + Levels(engine.Jobs.Count)));
        // a and b read data through the top's multiplexer into a_q / b_q (b_q also chooses the weight ROM word)
        yield return MacTiming.Finish((blockSource ? TimingPath.FromBlockRam(outputRegister: false) : TimingPath.FromRegister()).Luts(muxLevels + 1));
        // weight ROMs (those holding weights): a block RAM's data latch, or LUTs, into the ROM's output register
        foreach (var rom in engine.WeightRoms.Where(r => r.VaryingWidth > 0))
        {
            if (RomBlocks.IsBlock(rom)) yield return MacTiming.Finish(TimingPath.FromBlockRam(outputRegister: false).Luts(1));
            else yield return MacTiming.Finish(MacTiming.RomRead(MacTiming.FanOut(TimingPath.FromRegister(), rom.Width * Math.Max(1, rom.Depth / 64)), rom.Depth));
        }
        if (engine.LutLanes > 0)
        {
            var (first, second) = MacTiming.TreeLevels(bb);
            yield return MacTiming.Finish(MacTiming.Adders(TimingPath.FromRegister().Luts(1), first, ab + bb));
            yield return MacTiming.Finish(MacTiming.Adders(TimingPath.FromRegister(), second, ab + bb));
        }
        if (engine.LutMultipliers)
        {
            var (qFirst, qSecond) = MacTiming.TreeLevels(m0 + 1);
            yield return MacTiming.Finish(MacTiming.Adders(TimingPath.FromRegister(), qFirst, requant + 2));
            yield return MacTiming.Finish(MacTiming.Adders(TimingPath.FromRegister(), qSecond, requant + 2));
        }
        else
        {
            // operand registers → DSP48E1 → MREG (at the combinational bound, as for the per-layer templates)
            yield return MacTiming.Finish(TimingPath.FromRegister().DspCombinational());
        }
        var product = engine.DspLanes == 0 ? TimingPath.FromRegister() : TimingPath.FromDsp();
        // lane sums of four: two adder levels per stage
        if (MacTiming.SumStages(engine.Lanes) > 0) yield return MacTiming.Finish(MacTiming.Adders(product, 2, acc));
        // the last sum (or P) with the bias or the running sum into the accumulator
        yield return MacTiming.Finish((MacTiming.SumStages(engine.Lanes) > 0 || engine.LutMultipliers ? TimingPath.FromRegister() : TimingPath.FromDsp()).Luts(1).Adder(acc));
        // accumulator → magnitude (conditional negation)
        yield return MacTiming.Finish(TimingPath.FromRegister().Adder(acc + 1));
        // P → + half (the job's rounding bit)
        yield return MacTiming.Finish((engine.LutMultipliers ? TimingPath.FromRegister() : TimingPath.FromDsp()).Adder(requant + 1));
        // the job's shift: a barrel shifter, two shift bits per LUT level
        yield return MacTiming.Finish(TimingPath.FromRegister().Luts((IntegerMath.BitLength(requant + 1) + 1) / 2));
        // clamp: the sign's limit, the compare against it, the select
        yield return MacTiming.Finish(TimingPath.FromRegister().Luts(1).Adder(requant + 1).Luts(1));
        // sign restore (negation) and the ReLU select
        yield return MacTiming.Finish(TimingPath.FromRegister().Adder(engine.OutputBits + 1).Luts(1));
        // write-back stages: the residual element through the bank and step multiplexers into its magnitude; a gain
        // (block RAM latch or LUT ROM register) into its magnitude; the products' signs restored and summed; + offset;
        // magnitude; + half; shift; clamp; sign; the tables' address counters
        if (engine.WriteBackStages > 0)
        {
            var (gainBits, offsetBits, _, sumBits) = engine.WriteBackWidths();
            var residuals = engine.Jobs.SelectMany(j => j.WriteBack).Where(op => op.Residual is not null).Select(op => op.Residual!.BufferOwner.Name).Distinct().ToList();
            if (residuals.Count > 0)
            {
                var residualBuffers = design.Buffers.Where(b => residuals.Contains(b.Name)).ToList();
                int bankLevels = residualBuffers.Max(b => b.Banks) > 1 ? 1 + Levels(residualBuffers.Max(b => b.Banks)) : 0;
                var start = residualBuffers.Any(b => b.Resource == BufferResource.Block) ? TimingPath.FromBlockRam(outputRegister: false) : TimingPath.FromRegister();
                yield return MacTiming.Finish(start.Luts(bankLevels + 1 + Levels(engine.Jobs.Count)).Adder(engine.ResidualBits + 1));
            }
            var tables = WriteBackTables(engine);
            yield return MacTiming.Finish((tables.Any(RomBlocks.IsBlock) ? TimingPath.FromBlockRam(outputRegister: false) : TimingPath.FromRegister()).Adder(gainBits + 1));
            yield return MacTiming.Finish((tables.Any(RomBlocks.IsBlock) ? TimingPath.FromBlockRam(outputRegister: false) : TimingPath.FromRegister()).Adder(offsetBits));
            foreach (var table in tables.Where(t => !RomBlocks.IsBlock(t)))
                yield return MacTiming.Finish(MacTiming.RomRead(TimingPath.FromRegister(), table.Depth));
            yield return MacTiming.Finish((engine.LutMultipliers ? TimingPath.FromRegister() : TimingPath.FromDsp()).Adder(sumBits).Adder(sumBits));
            yield return MacTiming.Finish(TimingPath.FromRegister().Adder(sumBits + 1));
            yield return MacTiming.Finish(TimingPath.FromRegister().Luts((IntegerMath.BitLength(sumBits + 1) + 1) / 2));
            yield return MacTiming.Finish(TimingPath.FromRegister().Luts(1).Adder(sumBits + 1).Luts(1));
            yield return MacTiming.Finish(TimingPath.FromRegister().Adder(Vhdl.AddressBits(tables.Max(t => t.Depth))).Luts(2));
        }
        // a layer of its own reading one element of a banked buffer: the bank chosen a clock before
        int banks = design.Buffers.Max(b => b.Banks);
        if (banks > 1)
            yield return MacTiming.Finish((design.Buffers.Any(b => b.Banks > 1 && b.Resource == BufferResource.Block) ? TimingPath.FromBlockRam(outputRegister: false) : TimingPath.FromRegister())
                .Luts(1 + Levels(banks)));
        // an instance that runs several layers reads the step's source: its bank (when banked), then the step's select
        foreach (var unit in design.OwnDatapaths.Where(l => l.UnitMembers is { Count: > 0 }))
        {
            var unitSources = unit.Jobs.SelectMany(j => j.Sources).ToList();
            int unitBanks = unitSources.Max(b => b.Banks);
            var start = unitSources.Any(b => b.Resource == BufferResource.Block) ? TimingPath.FromBlockRam(outputRegister: false) : TimingPath.FromRegister();
            yield return MacTiming.Finish(start.Luts((unitBanks > 1 ? 1 + Levels(unitBanks) : 0) + 1 + Levels(unit.Jobs.Count)));
        }
    }

    /// <summary>The write-back stages' gain and offset tables as synthesis sees them.</summary>
    private static IReadOnlyList<RomShape> WriteBackTables(MacEngine engine) => VhdlModule.Parse(
        string.Join("\n", ["-- tfpga:rom-begin", .. engine.WriteBackRomLines(), "-- tfpga:rom-end"])).Roms;

    /// <summary>4:1 multiplexer levels (one LUT6 each) that choose one of <paramref name="inputs"/>.</summary>
    private static int Levels(int inputs)
    {
        int levels = 0;
        for (long reach = 4; reach < inputs; reach *= 4) levels++;
        return levels;
    }
}
