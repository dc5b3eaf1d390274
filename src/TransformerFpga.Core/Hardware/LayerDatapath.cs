using TransformerFpga.Hdl;
using TransformerFpga.Layers;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Hardware;

/// <summary>
/// A layer's hardware in the per-layer architecture: a datapath of its own, written from its kind's VHDL
/// template, with the latency, timing and resource models of that template. Each layer kind has one such
/// class in its folder (<see cref="QuantizedLayer.Datapath"/>); the generator, the latency, timing and
/// resource models only call these members, so a new kind is new files.
/// </summary>
public abstract class LayerDatapath
{
    /// <summary>The template's file name in the kind's folder.</summary>
    public abstract string Template { get; }

    /// <summary>The entity the template declares (renamed per layer).</summary>
    public abstract string TemplateEntity { get; }

    /// <summary>The kind of module the resource model fits coefficients for.</summary>
    public abstract ModuleKind ModuleKind { get; }

    /// <summary>Whether the datapath has MAC lanes: one multiplier per lane plus the requantizer's, and a lane count from the plan.</summary>
    public virtual bool HasLanes => false;

    /// <summary>The dimension the lanes split, which they must divide; 1 for kinds without lanes.</summary>
    public virtual int ParallelSize => 1;

    /// <summary>What <see cref="ParallelSize"/> counts, for messages: "16 outputs", "a head dimension of 8".</summary>
    public virtual string ParallelDimension => ParallelSize.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The layers whose buffers this one reads in column banks, one bank per lane (their writers provide them).</summary>
    public virtual IReadOnlyList<QuantizedLayer> BankedSources => [];

    /// <summary>Whether the template can write its output in column banks (a wr_bank port) for a reader with lanes.</summary>
    public virtual bool WritesBanks => false;

    /// <summary>Multiply operators the template writes: per lane plus the requantizer's for kinds with lanes, else its fixed ones.</summary>
    public virtual int MultiplierCount(int lanes) => HasLanes ? lanes + 1 : 0;

    /// <summary>Clocks from the edge that samples start to the edge after which done is high, exact to the edge.</summary>
    public abstract long Cycles(int lanes, bool lutMultipliers);

    /// <summary>The longest register-to-register path of the template for this layer.</summary>
    /// <param name="weights">Where the weight ROM goes (a WeightResource item; only kinds with <see cref="HasWeightRom"/> read it).</param>
    public abstract TimingPath CriticalPath(int lanes, bool lutMultipliers, BufferResource weights = BufferResource.Auto);

    /// <summary>
    /// The register the template reads its weight ROM into, for kinds whose weight ROM's memory a WeightResource item
    /// chooses (the Yosys script finds the ROM as that register's driver); null for kinds without one.
    /// </summary>
    public virtual string? WeightReadRegister => null;

    /// <summary>Whether the layer has a weight ROM whose memory a WeightResource item chooses.</summary>
    public bool HasWeightRom => WeightReadRegister is not null;

    /// <summary>Sets the template's constants and ROMs for this layer (its ports' widths are already set).</summary>
    /// <param name="outputBanks">Column banks of the output buffer (only kinds that <see cref="WritesBanks"/> take more than 1).</param>
    /// <param name="weights">Where the weight ROM goes (only kinds with <see cref="HasWeightRom"/> read it).</param>
    /// <param name="outputPitch">
    /// Elements from one output row to the next in the buffer; 0 for the row's length. Only kinds that
    /// <see cref="WritesPaddedRows"/> take another (an engine reads their rows in whole words of its lanes).
    /// </param>
    public abstract void Fill(VhdlTemplate template, int lanes, bool lutMultipliers, int outputBanks = 1, BufferResource weights = BufferResource.Auto, int outputPitch = 0);

    /// <summary>Whether the template can leave a gap after each output row (see <see cref="Fill"/>'s outputPitch).</summary>
    public virtual bool WritesPaddedRows => false;

    /// <summary>The resource model's structural features of the generated entity, first the constant 1.</summary>
    /// <param name="distributedSourceBits">Read-data bits the layer takes from buffers in LUT RAM (a feature of the kinds with lanes).</param>
    public abstract double[] Features(VhdlModule vhdl, double distributedSourceBits);

    /// <summary>Indices of features whose coefficients the fit may make negative.</summary>
    public virtual IReadOnlySet<int> SignedFeatures(int featureCount) => HasLanes ? new HashSet<int> { featureCount - 1 } : new HashSet<int>();

    /// <summary>RAMB18 halves and DSP48E1 of the generated entity, by counting rules.</summary>
    public abstract (int Bram18, int Dsp) Counted(VhdlModule vhdl);

    /// <summary>LUT RAM of small memories inside the entity, by the tiling rule of the buffers; added to the fitted LUT RAM and LUTs.</summary>
    public virtual int CountedLutRam(VhdlModule vhdl) => 0;

    /// <summary>The datapath has a job input (which of the layers it runs); the top ties it to 0 where it runs one.</summary>
    public virtual bool HasJobPort => false;

    /// <summary>
    /// In an Engine design, layers whose datapaths give the same key run as jobs of one instance, one sequencer step
    /// each (<see cref="ForJobs"/>); null: the layer keeps an instance of its own.
    /// </summary>
    public virtual string? UnitKey(bool lutMultipliers) => null;

    /// <summary>The datapath that runs <paramref name="jobs"/> (of one <see cref="UnitKey"/>) as its jobs, in order; null when it cannot.</summary>
    public virtual LayerDatapath? ForJobs(IReadOnlyList<QuantizedLayer> jobs) => jobs.Count == 1 ? this : null;
}
