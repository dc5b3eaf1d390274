using System.Globalization;
using System.Text;
using TransformerFpga.Engine;
using TransformerFpga.Hardware;
using TransformerFpga.Integer;
using TransformerFpga.Layers;
using TransformerFpga.Pipeline;
using TransformerFpga.Reports;

namespace TransformerFpga.Hdl;

/// <summary>
/// Writes the synthesizable VHDL of an integer model from the templates beside the
/// layer classes: one entity per layer and per buffer, the top with its sequencer, the
/// self-checking testbench, its vectors and the GHDL script, all under <c>hdl/</c>.
/// </summary>
public static class HdlGenerator
{
    public const string PackageFile = "tfpga_pkg.vhd";
    public const string MuxFile = "tfpga_rdmux.vhd";
    public const string BufferFile = "tfpga_buffer.vhd";
    public const string TopFile = "tfpga_top.vhd";
    public const string TestbenchFile = "tb_tfpga_top.vhd";

    /// <summary>A buffer: the RAM a layer (or the top's x port) writes.</summary>
    /// <param name="Banks">
    /// Column banks: a buffer read by an attention layer with lanes is that many RAMs of Depth / Banks words
    /// (element e in bank e mod Banks, word e / Banks) read with one shared address, Banks elements per read.
    /// </param>
    /// <param name="RowPitch">Elements from one row to the next where rows are padded (see <see cref="MacEngine.OutputPitch"/>); 0 when back to back.</param>
    /// <param name="Columns">Elements of a padded row that hold values (the rest stay 0); 0 when rows are not padded.</param>
    public sealed record BufferInfo(string Name, string Entity, string Signal, long Depth, int Width, BufferResource Resource, int Banks = 1, int RowPitch = 0, int Columns = 0)
    {
        /// <summary>
        /// Banks that hold values: a padded row starts at a multiple of the banks, so where it is narrower than the banks
        /// the last banks hold only padding, which is 0: those have no RAM (the top reads them as 0).
        /// </summary>
        public int LiveBanks => RowPitch != 0 && Columns > 0 && Columns < Banks && RowPitch % Banks == 0 ? Columns : Banks;
        /// <summary>Words per bank (the depth of each RAM).</summary>
        public long BankDepth => Depth / Banks;
        /// <summary>Width of the (per-bank) address.</summary>
        public int AddressBits => Vhdl.AddressBits(BankDepth);
        /// <summary>Width of one read: Banks elements.</summary>
        public int ReadWidth => Width * Banks;
        /// <summary>Width of an element's address (what a writer, or a reader of one element at a time, gives in an engine design).</summary>
        public int ElementAddressBits => Vhdl.AddressBits(Depth);
        /// <summary>log2 of Banks (a power of two in engine designs): the element address bits that choose the bank.</summary>
        public int BankBits => Quantization.IntegerMath.BitLength(Banks - 1);
    }

    /// <summary>One hardware layer: its sequencer step, entity and buffers.</summary>
    /// <param name="Weights">Where the weight ROM goes (a WeightResource item); Auto = synthesis' cost rule.</param>
    /// <param name="OnEngine">The layer is a job of the design's shared MAC engine (it has no entity of its own).</param>
    /// <param name="UnitStep">The step of the layer whose instance runs this one as a further job (see <see cref="LayerDatapath.UnitKey"/>); -1 when it runs on its own.</param>
    /// <param name="Job">The value of the instance's job input while it runs this layer.</param>
    /// <param name="UnitDatapath">The datapath of an instance that runs further layers (<see cref="UnitMembers"/>).</param>
    /// <param name="UnitMembers">The further layers this layer's instance runs, in step order.</param>
    public sealed record LayerInfo(int Step, QuantizedLayer Layer, string Entity, string Instance, int Lanes, BufferInfo Output, IReadOnlyList<BufferInfo> Sources,
        bool LutMultipliers = false, BufferResource Weights = BufferResource.Auto, bool OnEngine = false,
        int UnitStep = -1, int Job = 0, LayerDatapath? UnitDatapath = null, IReadOnlyList<LayerInfo>? UnitMembers = null)
    {
        /// <summary>The layer's datapath (hardware layers always have one); an instance's that runs further layers covers them too.</summary>
        public LayerDatapath Datapath => UnitDatapath ?? Layer.Datapath ?? throw new InvalidOperationException($"layer '{Layer.Name}' has no hardware of its own");

        /// <summary>The layers this layer's instance runs: itself, then its <see cref="UnitMembers"/>.</summary>
        public IReadOnlyList<LayerInfo> Jobs => [this, .. UnitMembers ?? []];

        /// <summary>The layer has an instance of its own (not on the engine, not a job of another layer's instance).</summary>
        public bool HasInstance => !OnEngine && UnitStep < 0;
    }

    /// <summary>The structure of the design (used by the generator, the Yosys script and tests).</summary>
    /// <param name="Engine">The shared MAC engine of an Engine design; null when every layer has its own datapath (Layers).</param>
    /// <param name="InputElements">Elements of the input window the host writes through the x port (the input buffer may hold them padded).</param>
    public sealed record Design(string Top, BufferInfo Input, IReadOnlyList<LayerInfo> Layers, IReadOnlyList<BufferInfo> Buffers, MacEngine? Engine, long InputElements)
    {
        /// <summary>Width of the x port's element address.</summary>
        public int XAddressBits => Vhdl.AddressBits(InputElements);
        /// <summary>Whether the top maps the x port's element addresses to the input buffer's padded rows (the engine reads them in whole words).</summary>
        public bool PadsInput => Input.RowPitch != 0;
        public BufferInfo OutputBuffer => Layers[^1].Output;
        /// <summary>The engine's entity (Engine designs).</summary>
        public string EngineEntity => Top + "_engine";
        /// <summary>The layers with an instance of their own (each may run further layers as jobs).</summary>
        public IEnumerable<LayerInfo> OwnDatapaths => Layers.Where(l => l.HasInstance);
        /// <summary>The layer whose instance runs <paramref name="layer"/>: itself, or the one it is a further job of.</summary>
        public LayerInfo InstanceOf(LayerInfo layer) => layer.UnitStep < 0 ? layer : Layers[layer.UnitStep];
        /// <summary>The layers off the engine: those with an instance and those that run as jobs of another's.</summary>
        public IEnumerable<LayerInfo> OffEngine => Layers.Where(l => !l.OnEngine);
        /// <summary>The layers the engine runs, in step order.</summary>
        public IEnumerable<LayerInfo> EngineLayers => Layers.Where(l => l.OnEngine);
        /// <summary>Whether an engine layer reads its second operand from a buffer (Q·Kᵀ, A·V) rather than the weight ROM.</summary>
        public bool ReadsSecondSource(LayerInfo layer) => Engine?.JobOf(layer.Layer)?.BSource is not null;
        /// <summary>The buffer an engine layer's write-back reads its residual operand from, or null.</summary>
        public BufferInfo? ResidualSource(LayerInfo layer) =>
            Engine?.JobOf(layer.Layer)?.WriteBack.FirstOrDefault(op => op.Residual is not null)?.Residual is { } residual
                ? Buffers.Single(b => b.Name == residual.BufferOwner.Name) : null;
    }

    /// <summary>The instance label of the engine in the top.</summary>
    public const string EngineLabel = "u_engine";

    /// <summary>The instance label of a layer in the top (what Vivado's hierarchical report names it).</summary>
    public static string InstanceLabel(LayerInfo layer) => "u_" + layer.Instance;

    /// <summary>The instance labels of a buffer's RAMs in the top: one, or one per column bank.</summary>
    public static IReadOnlyList<string> InstanceLabels(BufferInfo buffer) => buffer.Banks == 1
        ? ["b_" + buffer.Signal[4..]]
        : Enumerable.Range(0, buffer.LiveBanks).Select(k => "b_" + buffer.Signal[4..] + "_" + k.ToString(CultureInfo.InvariantCulture)).ToList();

    /// <summary>The instance label of a buffer's read-address multiplexer (only buffers with several readers have one).</summary>
    public static string MuxLabel(BufferInfo buffer) => "m_" + buffer.Signal[4..];

    public static Design Plan(IntegerTransformer model, LayerPlan plan, string topName)
    {
        string top = Vhdl.TopIdentifier(topName);
        var engine = plan.Engine is not null ? MacEngine.For(model, plan) : null;
        // An engine reading the input window (the embedding) reads it in words of its lanes: banked, rows padded.
        int inputBanks = engine is { ReadsInput: true, Lanes: > 1 } ? engine.Lanes : 1;
        long inputDepth = engine?.StoredElements(null, model.InputElements) ?? model.InputElements;
        var input = new BufferInfo("input", top + "_input_buf", "buf_input", inputDepth, model.Input.Bits,
            HardwareModel.Buffer(inputDepth / inputBanks, model.Input.Bits, BufferResource.Auto), inputBanks, engine?.OutputPitch(null, model.Config.InputFeatures) ?? 0,
            model.Config.InputFeatures);
        var buffers = new List<BufferInfo> { input };
        var byOwner = new Dictionary<QuantizedLayer, BufferInfo>();
        var layers = new List<LayerInfo>();
        // Column banks of Q, K (read by scores) and V (read by context): the reader's lanes. In an engine design every
        // buffer the engine reads is in as many banks as it has lanes.
        var banks = new Dictionary<QuantizedLayer, int>();
        if (engine is { Lanes: > 1 })
            foreach (var job in engine.Jobs)
                foreach (var source in new[] { job.ASource, job.BSource }.OfType<QuantizedLayer>())
                    banks[source] = engine.Lanes;
        foreach (var layer in model.Layers.Where(l => engine?.JobOf(l) is null))
        {
            int lanes = HardwareModel.Lanes(layer, plan[layer.Name]);
            foreach (var source in BankedSources(layer))
            {
                if (lanes == 1) continue;
                if (source.Datapath is not { WritesBanks: true } || banks.TryGetValue(source, out int other) && other != lanes)
                    throw new NotSupportedException($"layer '{layer.Name}' needs the buffer of '{source.Name}' in {lanes} column banks, which its writer cannot provide");
                banks[source] = lanes;
            }
        }
        foreach (var layer in model.Layers.Where(HardwareModel.HasHardware))
        {
            // A layer in an engine job's write-back has neither a datapath nor a buffer of its input: the job writes
            // the last such layer's buffer.
            if (engine?.WriteBackOf(layer) is not null) continue;
            var stored = engine?.JobOf(layer)?.Writes ?? layer;
            string name = Vhdl.Identifier(layer.Name, "layer"), bufferName = Vhdl.Identifier(stored.Name, "layer");
            var choice = plan[layer.Name];
            // The engine's banks are separate RAMs: Auto decides on one bank's size there.
            int bankCount = banks.GetValueOrDefault(stored, 1);
            long depth = engine?.StoredElements(stored, stored.Elements) ?? stored.Elements;
            int pitch = engine?.OutputPitch(stored, stored.Columns) ?? 0;
            if (pitch != 0 && engine!.JobOf(layer) is null && layer.Datapath is not { WritesPaddedRows: true })
                throw new NotSupportedException($"the engine reads the rows of '{layer.Name}' padded to whole words of {engine.Lanes} lanes, which its writer cannot provide");
            var output = new BufferInfo(stored.Name, top + "_" + bufferName + "_buf", "buf_" + bufferName, depth, stored.Output.Bits,
                HardwareModel.Buffer(engine is null ? depth : depth / bankCount, stored.Output.Bits, plan[stored.Name].Buffer), bankCount, pitch, stored.Columns);
            byOwner[stored] = output;
            buffers.Add(output);
            var sources = layer.Sources.Count == 0 ? [input] : layer.Sources.Select(s => byOwner[s.BufferOwner]).ToList();
            bool onEngine = engine?.JobOf(layer) is not null;
            layers.Add(new LayerInfo(layers.Count, layer, top + "_" + name, name, onEngine ? engine!.Lanes : HardwareModel.Lanes(layer, choice), output, sources,
                onEngine ? engine!.LutMultipliers : HardwareModel.LutMultipliers(choice),
                !onEngine && layer.Datapath!.HasWeightRom ? choice.Weights : BufferResource.Auto, onEngine));
        }
        if (engine is not null) layers = ShareInstances(layers);
        return new Design(top, input, layers, buffers, engine, model.InputElements);
    }

    /// <summary>
    /// In an Engine design, the layers off the engine whose datapaths give one <see cref="LayerDatapath.UnitKey"/>
    /// run on one instance, the first's: it is sequential anyway, and each runs in a step of its own. A layer joins
    /// the first such instance that can take it as a further job.
    /// </summary>
    private static List<LayerInfo> ShareInstances(List<LayerInfo> layers)
    {
        var groups = new List<(string Key, List<LayerInfo> Members)>();
        foreach (var info in layers.Where(l => !l.OnEngine))
        {
            if (info.Layer.Datapath?.UnitKey(info.LutMultipliers) is not { } key) continue;
            var group = groups.FirstOrDefault(g => g.Key == key && info.Datapath.ForJobs([.. g.Members.Select(m => m.Layer), info.Layer]) is not null).Members;
            if (group is null) groups.Add((key, [info]));
            else group.Add(info);
        }
        var shared = layers.ToList();
        foreach (var (_, group) in groups.Where(g => g.Members.Count > 1))
        {
            var owner = group[0];
            var members = group.Skip(1).Select((m, k) => m with { UnitStep = owner.Step, Job = k + 1 }).ToList();
            foreach (var m in members) shared[m.Step] = m;
            shared[owner.Step] = owner with { UnitDatapath = owner.Layer.Datapath!.ForJobs([.. group.Select(m => m.Layer)]), UnitMembers = members };
        }
        return shared;
    }

    /// <summary>The layers whose buffers <paramref name="layer"/> reads in column banks, one bank per lane (see <see cref="LayerDatapath.BankedSources"/>).</summary>
    public static IEnumerable<QuantizedLayer> BankedSources(QuantizedLayer layer) => layer.Datapath?.BankedSources ?? [];

    /// <summary>Adds hdl/… to <paramref name="outputs"/>.</summary>
    /// <param name="testInputs">Quantized input windows (row-major [window][feature]) for the testbench vectors.</param>
    public static Design Generate(IntegerTransformer model, LayerPlan plan, string topName, IReadOnlyList<int[]> testInputs, OutputWriter outputs)
    {
        var design = Plan(model, plan, topName);
        string top = design.Top;
        var sources = new List<string> { PackageFile, MuxFile };
        outputs.Add("hdl/" + PackageFile, VhdlTemplate.Load(PackageFile).ToString());
        outputs.Add("hdl/" + MuxFile, VhdlTemplate.Load(MuxFile).ToString());
        foreach (var buffer in design.Buffers)
        {
            string file = buffer.Entity + ".vhd";
            outputs.Add("hdl/" + file, BufferVhdl(buffer));
            sources.Add(file);
        }
        foreach (var layer in design.OwnDatapaths)
        {
            string file = layer.Entity + ".vhd";
            outputs.Add("hdl/" + file, LayerVhdl(layer, design.Engine is not null));
            sources.Add(file);
        }
        if (design.Engine is not null)
        {
            string file = design.EngineEntity + ".vhd";
            outputs.Add("hdl/" + file, EngineVhdl(design));
            sources.Add(file);
        }
        outputs.Add("hdl/" + top + ".vhd", TopVhdl(design, model));
        sources.Add(top + ".vhd");
        outputs.Add("hdl/sources.txt", string.Join("\n", sources) + "\n");

        long maxCycles = HardwareModel.TotalCycles(model, plan) * 2 + 1000;
        outputs.Add("hdl/tb_" + top + ".vhd", TestbenchVhdl(design, model, testInputs.Count, maxCycles));
        outputs.Add("hdl/run_ghdl.sh", RunScript(top));
        var x = new StringBuilder();
        var expected = new StringBuilder();
        foreach (var window in testInputs)
        {
            if (window.Length != model.InputElements) throw new ArgumentException($"a test window has {window.Length} values; the model takes {model.InputElements}");
            foreach (int v in window) x.Append(v.ToString(CultureInfo.InvariantCulture)).Append('\n');
            foreach (int v in model.Simulate(window)) expected.Append(v.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        outputs.Add("hdl/vectors/" + top + "_x.txt", x.ToString());
        outputs.Add("hdl/vectors/" + top + "_expected.txt", expected.ToString());
        return design;
    }

    internal static string BufferVhdl(BufferInfo buffer)
    {
        var t = VhdlTemplate.Load(BufferFile).Rename("tfpga_buffer", buffer.Entity)
            .SetPortWidth("wr_addr", buffer.AddressBits).SetPortWidth("rd_addr", buffer.AddressBits)
            .SetPortWidth("wr_data", buffer.Width).SetPortWidth("rd_data", buffer.Width)
            .SetRegion("constants", [Vhdl.Positive("DEPTH", buffer.BankDepth)])
            .SetRegion("attributes", [$"attribute ram_style of mem : signal is \"{RamStyle(buffer.Resource)}\";"]);
        return t.ToString();
    }

    public static string RamStyle(BufferResource resource) => resource == BufferResource.Block ? "block" : "distributed";

    /// <param name="elementAddresses">
    /// An engine design: the layer reads and writes one element at a time by element address, and the top splits the
    /// address of a banked buffer into bank and word.
    /// </param>
    internal static string LayerVhdl(LayerInfo info, bool elementAddresses = false)
    {
        var t = VhdlTemplate.Load(info.Datapath.Template).Rename(info.Datapath.TemplateEntity, info.Entity);
        for (int k = 0; k < info.Sources.Count; k++)
        {
            var source = info.Sources[k];
            int index = k;
            t.SetPortWidth($"src{k}_rd_addr", UnitAddressBits(info, j => j.Sources[index], elementAddresses))
                .SetPortWidth($"src{k}_rd_data", elementAddresses ? source.Width : source.ReadWidth);
        }
        t.SetPortWidth("wr_addr", UnitAddressBits(info, j => j.Output, elementAddresses)).SetPortWidth("wr_data", info.Output.Width);
        if (info.Datapath.HasJobPort) t.SetPortWidth("job", JobBits(info));
        info.Datapath.Fill(t, info.Lanes, info.LutMultipliers, elementAddresses ? 1 : info.Output.Banks, info.Weights, info.Output.RowPitch);
        return t.ToString();
    }

    /// <summary>
    /// Width of an instance's address into one of its buffers (<paramref name="buffer"/> of each job): the widest of its
    /// jobs' buffers, which hold the same elements.
    /// </summary>
    private static int UnitAddressBits(LayerInfo info, Func<LayerInfo, BufferInfo> buffer, bool elementAddresses) =>
        info.Jobs.Max(j => elementAddresses ? buffer(j).ElementAddressBits : buffer(j).AddressBits);

    /// <summary>Width of an instance's job input.</summary>
    private static int JobBits(LayerInfo info) => Vhdl.AddressBits(info.Jobs.Count);

    /// <summary>The engine's port widths: word addresses of its a and b reads (b also addresses the weight ROM), element addresses of its writes.</summary>
    private static (int A, int B, int Write) EngineAddressBits(Design design)
    {
        var engine = design.Engine!;
        var jobs = design.EngineLayers.ToList();
        int a = jobs.Max(l => l.Sources[0].AddressBits);
        int b = Math.Max(Vhdl.AddressBits(Math.Max(engine.WeightAddressDepth, 2)), jobs.Where(design.ReadsSecondSource).Select(l => l.Sources[1].AddressBits).DefaultIfEmpty(1).Max());
        int write = jobs.Max(l => l.Output.ElementAddressBits);
        return (a, b, write);
    }

    /// <summary>Width of the engine's residual element address (1 when no write-back reads one).</summary>
    private static int ResidualAddressBits(Design design) =>
        design.EngineLayers.Select(design.ResidualSource).OfType<BufferInfo>().Select(b => b.ElementAddressBits).DefaultIfEmpty(1).Max();

    private static string EngineVhdl(Design design)
    {
        var engine = design.Engine!;
        var (a, b, write) = EngineAddressBits(design);
        var t = VhdlTemplate.Load(MacEngine.Template).Rename(MacEngine.TemplateEntity, design.EngineEntity)
            .SetPortWidth("a_rd_addr", a).SetPortWidth("a_rd_data", engine.Lanes * engine.ABits)
            .SetPortWidth("b_rd_addr", b).SetPortWidth("b_rd_data", engine.Lanes * engine.BBits)
            .SetPortWidth("s_rd_addr", ResidualAddressBits(design)).SetPortWidth("s_rd_data", engine.ResidualBits)
            .SetPortWidth("wr_addr", write).SetPortWidth("wr_data", engine.OutputBits).SetPortWidth("step", Vhdl.AddressBits(design.Layers.Count));
        engine.Fill(t, design.Layers.Count, job => design.Layers.Single(l => l.Layer == job.Layer).Step);
        return t.ToString();
    }

    private static string TopVhdl(Design design, IntegerTransformer model)
    {
        var t = VhdlTemplate.Load(TopFile).Rename("tfpga_top", design.Top)
            .SetPortWidth("x_wr_addr", design.XAddressBits).SetPortWidth("x_wr_data", design.Input.Width)
            .SetPortWidth("y_rd_addr", design.OutputBuffer.AddressBits).SetPortWidth("y_rd_data", design.OutputBuffer.Width)
            .SetRegion("constants", [Vhdl.Positive("N_LAYERS", design.Layers.Count)]);
        var engine = design.Engine;
        // In an engine design a layer of its own reads and writes banked buffers one element at a time: the top splits
        // the element address into word and bank, and picks the element of the bank the address chose a clock before.
        bool Split(BufferInfo b) => engine is not null && b.Banks > 1;
        string Word(string elementAddress, BufferInfo b) => $"resize(shift_right({elementAddress}, {b.BankBits}), {b.AddressBits})";

        // Readers of each buffer: (step, address expression).
        var readers = design.Buffers.ToDictionary(b => b, _ => new List<(int Step, string Address)>());
        foreach (var layer in design.Layers)
        {
            if (layer.OnEngine)
            {
                readers[layer.Sources[0]].Add((layer.Step, $"eng_a_addr({layer.Sources[0].AddressBits - 1} downto 0)"));
                if (design.ReadsSecondSource(layer))
                    readers[layer.Sources[1]].Add((layer.Step, $"eng_b_addr({layer.Sources[1].AddressBits - 1} downto 0)"));
                if (design.ResidualSource(layer) is { } residual)
                    readers[residual].Add((layer.Step, Split(residual) ? Word("eng_s_addr", residual) : $"eng_s_addr({residual.AddressBits - 1} downto 0)"));
                continue;
            }
            for (int k = 0; k < layer.Sources.Count; k++)
            {
                string address = $"lyr_{layer.Instance}_src{k}_addr";
                readers[layer.Sources[k]].Add((layer.Step, Split(layer.Sources[k]) ? Word(address, layer.Sources[k]) : address));
            }
        }

        var signals = new List<string>();
        var body = new List<string>();
        foreach (var b in design.Buffers)
        {
            string s = b.Signal;
            signals.Add($"-- buffer of {b.Name}: {b.Depth.ToString(CultureInfo.InvariantCulture)} x {b.Width.ToString(CultureInfo.InvariantCulture)} bits, {RamStyle(b.Resource)}");
            signals.Add($"signal {s}_wr_en   : std_logic := '0';");
            signals.Add($"signal {s}_wr_addr : unsigned({b.AddressBits - 1} downto 0) := (others => '0');");
            signals.Add($"signal {s}_wr_data : signed({b.Width - 1} downto 0) := (others => '0');");
            signals.Add($"signal {s}_rd_addr : unsigned({b.AddressBits - 1} downto 0) := (others => '0');");
            signals.Add($"signal {s}_rd_data : signed({b.ReadWidth - 1} downto 0);");
            if (b.Banks > 1)
            {
                signals.Add($"signal {s}_wr_bank : unsigned({Vhdl.AddressBits(b.Banks) - 1} downto 0) := (others => '0');");
                signals.Add($"signal {s}_wr_ens  : std_logic_vector(0 to {b.LiveBanks - 1});");
            }
            if (Split(b)) signals.Add($"signal {s}_wr_elem : unsigned({b.ElementAddressBits - 1} downto 0) := (others => '0');");
            var r = readers[b];
            if (r.Count > 1) signals.Add($"signal {s}_rd_addrs : unsigned({r.Count * b.AddressBits - 1} downto 0);");
        }
        foreach (var layer in design.OwnDatapaths.Where(l => l.UnitMembers is { Count: > 0 }))
        {
            // an instance that runs further layers: its ports, steered by the step
            string unit = $"lyr_{layer.Instance}";
            signals.Add($"-- the instance of {layer.Layer.Name}, which also runs {string.Join(", ", layer.UnitMembers!.Select(m => m.Layer.Name))}");
            signals.Add($"signal {unit}_start : std_logic;");
            signals.Add($"signal {unit}_done  : std_logic;");
            signals.Add($"signal {unit}_job   : unsigned({JobBits(layer) - 1} downto 0);");
            for (int k = 0; k < layer.Sources.Count; k++)
            {
                int index = k;
                signals.Add($"signal {unit}_src{k}_unit_addr : unsigned({UnitAddressBits(layer, j => j.Sources[index], engine is not null) - 1} downto 0);");
                signals.Add($"signal {unit}_src{k}_unit_data : signed({layer.Sources[k].Width - 1} downto 0);");
            }
            signals.Add($"signal {unit}_wr_en   : std_logic;");
            signals.Add($"signal {unit}_wr_addr : unsigned({UnitAddressBits(layer, j => j.Output, engine is not null) - 1} downto 0);");
            signals.Add($"signal {unit}_wr_data : signed({layer.Output.Width - 1} downto 0);");
        }
        foreach (var layer in design.OffEngine)
            for (int k = 0; k < layer.Sources.Count; k++)
            {
                var source = layer.Sources[k];
                string prefix = $"lyr_{layer.Instance}_src{k}";
                signals.Add($"signal {prefix}_addr : unsigned({(engine is null ? source.AddressBits : source.ElementAddressBits) - 1} downto 0);");
                if (Split(source))
                {
                    signals.Add($"signal {prefix}_lane : unsigned({source.BankBits - 1} downto 0) := (others => '0');");
                    signals.Add($"signal {prefix}_data : signed({source.Width - 1} downto 0);");
                }
            }
        if (engine is not null)
        {
            var (aBits, bBits, writeBits) = EngineAddressBits(design);
            signals.Add("-- the shared MAC engine");
            signals.Add("signal eng_start   : std_logic;");
            signals.Add("signal eng_done    : std_logic;");
            signals.Add($"signal eng_a_addr  : unsigned({aBits - 1} downto 0);");
            signals.Add($"signal eng_a_data  : signed({engine.Lanes * engine.ABits - 1} downto 0);");
            signals.Add($"signal eng_b_addr  : unsigned({bBits - 1} downto 0);");
            signals.Add($"signal eng_b_data  : signed({engine.Lanes * engine.BBits - 1} downto 0);");
            signals.Add("signal eng_wr_en   : std_logic;");
            signals.Add($"signal eng_wr_addr : unsigned({writeBits - 1} downto 0);");
            signals.Add($"signal eng_wr_data : signed({engine.OutputBits - 1} downto 0);");
            signals.Add($"signal eng_s_addr  : unsigned({ResidualAddressBits(design) - 1} downto 0);");
            signals.Add($"signal eng_s_data  : signed({engine.ResidualBits - 1} downto 0);");
            foreach (var residual in ResidualSources(design).Where(Split))
            {
                string prefix = ResidualPrefix(residual);
                signals.Add($"signal {prefix}_addr : unsigned({ResidualAddressBits(design) - 1} downto 0);");
                signals.Add($"signal {prefix}_lane : unsigned({residual.BankBits - 1} downto 0) := (others => '0');");
                signals.Add($"signal {prefix}_data : signed({residual.Width - 1} downto 0);");
            }
        }
        var input = design.Input;
        if (design.PadsInput)
        {
            // The host writes element r·F + f; the buffer holds it at r·pitch + f (a constant table), a clock later.
            int features = model.Config.InputFeatures;
            var padded = Enumerable.Range(0, (int)design.InputElements).Select(e => (long)(e / features) * input.RowPitch + e % features);
            signals.Add($"type x_elements_t is array (0 to {design.InputElements - 1}) of natural range 0 to {input.Depth - 1};");
            signals.Add(Vhdl.Constant("X_ELEMENT", "x_elements_t", Vhdl.Aggregate(padded.Select(Vhdl.Int), "    ", 16)));
            signals.Add("signal x_wr_en_q   : std_logic := '0';");
            signals.Add($"signal x_wr_elem_q : unsigned({input.ElementAddressBits - 1} downto 0) := (others => '0');");
            signals.Add($"signal x_wr_data_q : signed({input.Width - 1} downto 0) := (others => '0');");
            body.Add($"-- the input window, written through the x port into rows padded to {input.RowPitch.ToString(CultureInfo.InvariantCulture)} elements");
            body.Add("process (clk)");
            body.Add("begin");
            body.Add("  if rising_edge(clk) then");
            body.Add("    x_wr_en_q <= '0';");
            body.Add($"    if x_wr_en = '1' and to_integer(unsigned(x_wr_addr)) < {design.InputElements.ToString(CultureInfo.InvariantCulture)} then");
            body.Add("      x_wr_en_q   <= '1';");
            body.Add($"      x_wr_elem_q <= to_unsigned(X_ELEMENT(to_integer(unsigned(x_wr_addr))), {input.ElementAddressBits});");
            body.Add("    end if;");
            body.Add("    x_wr_data_q <= signed(x_wr_data);");
            body.Add("  end if;");
            body.Add("end process;");
            body.Add($"{input.Signal}_wr_en   <= x_wr_en_q;");
            body.Add($"{input.Signal}_wr_elem <= x_wr_elem_q;");
            body.Add($"{input.Signal}_wr_data <= x_wr_data_q;");
        }
        else
        {
            body.Add("-- the input window, written through the x port");
            body.Add($"{input.Signal}_wr_en   <= x_wr_en;");
            body.Add(Split(input) ? $"{input.Signal}_wr_elem <= resize(unsigned(x_wr_addr), {input.ElementAddressBits});" : $"{input.Signal}_wr_addr <= unsigned(x_wr_addr);");
            body.Add($"{input.Signal}_wr_data <= signed(x_wr_data);");
        }
        t.SetRegion("signals", signals);
        body.Add("-- the outputs, read through the y port");
        body.Add($"{design.OutputBuffer.Signal}_rd_addr <= unsigned(y_rd_addr);");
        body.Add($"y_rd_data <= std_logic_vector({design.OutputBuffer.Signal}_rd_data);");
        body.Add("");
        foreach (var b in design.Buffers)
        {
            var labels = InstanceLabels(b);
            if (b.Banks == 1)
            {
                body.Add($"{labels[0]} : entity work.{b.Entity}");
                body.Add($"  port map (clk => clk, wr_en => {b.Signal}_wr_en, wr_addr => {b.Signal}_wr_addr, wr_data => {b.Signal}_wr_data,");
                body.Add($"            rd_addr => {b.Signal}_rd_addr, rd_data => {b.Signal}_rd_data);");
            }
            else
            {
                body.Add($"-- {b.Banks} column banks (element e in bank e mod {b.Banks}), read together");
                if (Split(b))
                {
                    body.Add($"{b.Signal}_wr_bank <= {b.Signal}_wr_elem({b.BankBits - 1} downto 0);");
                    body.Add($"{b.Signal}_wr_addr <= {Word(b.Signal + "_wr_elem", b)};");
                }
                for (int k = 0; k < b.LiveBanks; k++)
                {
                    body.Add($"{b.Signal}_wr_ens({k}) <= {b.Signal}_wr_en when {b.Signal}_wr_bank = {k} else '0';");
                    body.Add($"{labels[k]} : entity work.{b.Entity}");
                    body.Add($"  port map (clk => clk, wr_en => {b.Signal}_wr_ens({k}), wr_addr => {b.Signal}_wr_addr, wr_data => {b.Signal}_wr_data,");
                    body.Add($"            rd_addr => {b.Signal}_rd_addr, rd_data => {b.Signal}_rd_data({(k + 1) * b.Width - 1} downto {k * b.Width}));");
                }
                if (b.LiveBanks < b.Banks)
                {
                    body.Add($"-- banks {b.LiveBanks} to {b.Banks - 1} hold only the rows' padding: 0");
                    body.Add($"{b.Signal}_rd_data({b.ReadWidth - 1} downto {b.LiveBanks * b.Width}) <= (others => '0');");
                }
            }
            var r = readers[b];
            if (r.Count == 1)
                body.Add($"{b.Signal}_rd_addr <= {r[0].Address};");
            else if (r.Count > 1)
            {
                body.Add($"{b.Signal}_rd_addrs <= {string.Join(" & ", r.Select(x => x.Address))};");
                body.Add($"{MuxLabel(b)} : entity work.tfpga_rdmux");
                body.Add($"  generic map (N => {r.Count}, AW => {b.AddressBits}, STEPS => ({string.Join(", ", r.Select((x, i) => $"{i} => {x.Step}"))}))");
                body.Add($"  port map (step => step, addr_in => {b.Signal}_rd_addrs, addr_out => {b.Signal}_rd_addr);");
            }
            body.Add("");
        }
        foreach (var layer in design.OwnDatapaths)
        {
            string own = layer.Output.Signal;
            foreach (var job in layer.Jobs)
                for (int k = 0; k < job.Sources.Count; k++)
                    if (Split(job.Sources[k]))
                        body.AddRange(ElementRead($"lyr_{job.Instance}_src{k}", job.Sources[k]));
            string ReadData(LayerInfo job, int k) => Split(job.Sources[k]) ? $"lyr_{job.Instance}_src{k}_data" : job.Sources[k].Signal + "_rd_data";
            if (layer.UnitMembers is { Count: > 0 })
            {
                body.AddRange(UnitSteering(layer, ReadData, Split));
                string unit = $"lyr_{layer.Instance}";
                body.Add($"{InstanceLabel(layer)} : entity work.{layer.Entity}");
                body.Add($"  port map (clk => clk, rst => rst, start => {unit}_start, done => {unit}_done, job => {unit}_job,");
                for (int k = 0; k < layer.Sources.Count; k++)
                    body.Add($"            src{k}_rd_addr => {unit}_src{k}_unit_addr, src{k}_rd_data => {unit}_src{k}_unit_data,");
                body.Add($"            wr_en => {unit}_wr_en, wr_addr => {unit}_wr_addr, wr_data => {unit}_wr_data);");
                body.Add("");
                continue;
            }
            body.Add($"-- step {layer.Step}: {layer.Layer.Name} ({layer.Layer.Kind}, {layer.Lanes} lane{(layer.Lanes == 1 ? "" : "s")})");
            body.Add($"{InstanceLabel(layer)} : entity work.{layer.Entity}");
            body.Add($"  port map (clk => clk, rst => rst, start => starts({layer.Step}), done => dones({layer.Step}),{(layer.Datapath.HasJobPort ? " job => \"0\"," : "")}");
            for (int k = 0; k < layer.Sources.Count; k++)
                body.Add($"            src{k}_rd_addr => lyr_{layer.Instance}_src{k}_addr, src{k}_rd_data => {ReadData(layer, k)},");
            if (layer.Datapath.WritesBanks)
                body.Add($"            wr_bank => {(engine is null && layer.Output.Banks > 1 ? own + "_wr_bank" : "open")},");
            body.Add($"            wr_en => {own}_wr_en, wr_addr => {own}_wr_{(Split(layer.Output) ? "elem" : "addr")}, wr_data => {own}_wr_data);");
            body.Add("");
        }
        if (engine is not null)
        {
            // the write-back's residual operands: one element of a banked buffer per read, as for a layer of its own
            foreach (var residual in ResidualSources(design).Where(Split))
            {
                body.Add($"{ResidualPrefix(residual)}_addr <= eng_s_addr;");
                body.AddRange(ElementRead(ResidualPrefix(residual), residual));
            }
            body.AddRange(EngineInstance(design, Split));
        }
        t.SetRegion("instances", body);
        return t.ToString();
    }

    /// <summary>
    /// The top's side of an instance that runs several layers (<see cref="LayerInfo.UnitMembers"/>): started and done in
    /// each of their steps, told the step's job, reading the step's source and writing into the step's buffer.
    /// </summary>
    private static IEnumerable<string> UnitSteering(LayerInfo layer, Func<LayerInfo, int, string> readData, Func<BufferInfo, bool> split)
    {
        string unit = $"lyr_{layer.Instance}";
        var jobs = layer.Jobs;
        int jobBits = JobBits(layer);
        yield return $"-- steps {string.Join(", ", jobs.Select(j => j.Step))}: {string.Join(", ", jobs.Select(j => j.Layer.Name))} ({layer.Layer.Kind}, one instance, a job each)";
        yield return $"{unit}_start <= {string.Join(" or ", jobs.Select(j => $"starts({j.Step})"))};";
        foreach (var j in jobs) yield return $"dones({j.Step}) <= {unit}_done;";
        yield return $"with step select {unit}_job <=";
        foreach (var j in jobs) yield return $"  to_unsigned({j.Job}, {jobBits}) when {j.Step},";
        yield return $"  to_unsigned(0, {jobBits}) when others;";
        for (int k = 0; k < layer.Sources.Count; k++)
        {
            foreach (var j in jobs)
                yield return $"lyr_{j.Instance}_src{k}_addr <= resize({unit}_src{k}_unit_addr, lyr_{j.Instance}_src{k}_addr'length);";
            yield return $"with step select {unit}_src{k}_unit_data <=";
            foreach (var j in jobs) yield return $"  {readData(j, k)} when {j.Step},";
            yield return "  (others => '0') when others;";
        }
        foreach (var j in jobs)
        {
            var b = j.Output;
            yield return $"{b.Signal}_wr_en <= {unit}_wr_en when step = {j.Step} else '0';";
            yield return $"{b.Signal}_wr_{(split(b) ? "elem" : "addr")} <= resize({unit}_wr_addr, {b.Signal}_wr_{(split(b) ? "elem" : "addr")}'length);";
            yield return $"{b.Signal}_wr_data <= {unit}_wr_data;";
        }
    }

    /// <summary>The buffers the engine's write-back reads residual operands from.</summary>
    private static IEnumerable<BufferInfo> ResidualSources(Design design) => design.EngineLayers.Select(design.ResidualSource).OfType<BufferInfo>().Distinct();

    private static string ResidualPrefix(BufferInfo buffer) => "eng_s_" + buffer.Signal[4..];

    /// <summary>A layer's one-element read of a banked buffer: the bank its address chose, a clock later (when the data comes).</summary>
    private static IEnumerable<string> ElementRead(string prefix, BufferInfo b)
    {
        yield return $"-- {prefix}: one element of {b.Name} per read";
        yield return "process (clk)";
        yield return "begin";
        yield return $"  if rising_edge(clk) then {prefix}_lane <= {prefix}_addr({b.BankBits - 1} downto 0); end if;";
        yield return "end process;";
        yield return $"with to_integer({prefix}_lane) select {prefix}_data <=";
        for (int k = 0; k < b.Banks; k++)
            yield return $"  {b.Signal}_rd_data({(k + 1) * b.Width - 1} downto {k * b.Width}) when {(k == b.Banks - 1 ? "others" : k.ToString(CultureInfo.InvariantCulture))}{(k == b.Banks - 1 ? ";" : ",")}";
    }

    /// <summary>
    /// The engine's instance, its start and done in each of its steps, the step's a and b read data (each lane
    /// extended to the engine's signed operand width: sign-extended, or zero-extended where the source is unsigned, the
    /// softmax's probabilities read by a context) and its writes into the step's buffer.
    /// </summary>
    private static IEnumerable<string> EngineInstance(Design design, Func<BufferInfo, bool> split)
    {
        var engine = design.Engine!;
        var jobs = design.EngineLayers.ToList();
        var lines = new List<string>
        {
            $"-- the shared MAC engine: steps {string.Join(", ", jobs.Select(l => l.Step))} ({engine.Lanes} lane{(engine.Lanes == 1 ? "" : "s")})",
            $"eng_start <= {string.Join(" or ", jobs.Select(l => $"starts({l.Step})"))};",
        };
        foreach (var l in jobs) lines.Add($"dones({l.Step}) <= eng_done;");
        string Lanes(BufferInfo b, int bits, QuantizedLayer? source) => string.Join(" & ", Enumerable.Range(0, engine.Lanes).Reverse()
            .Select(k => $"{b.Signal}_rd_data({(k + 1) * b.Width - 1} downto {k * b.Width})")
            .Select(lane => source is { Output.Unsigned: true } ? $"signed(resize(unsigned({lane}), {bits}))" : $"resize({lane}, {bits})"));
        lines.Add("with step select eng_a_data <=");
        foreach (var l in jobs) lines.Add($"  {Lanes(l.Sources[0], engine.ABits, engine.JobOf(l.Layer)!.ASource)} when {l.Step},");
        lines.Add("  (others => '0') when others;");
        lines.Add("with step select eng_b_data <=");
        foreach (var l in jobs.Where(design.ReadsSecondSource)) lines.Add($"  {Lanes(l.Sources[1], engine.BBits, engine.JobOf(l.Layer)!.BSource)} when {l.Step},");
        lines.Add("  (others => '0') when others;");
        lines.Add("with step select eng_s_data <=");
        foreach (var l in jobs)
            if (design.ResidualSource(l) is { } residual)
                lines.Add($"  resize({(split(residual) ? ResidualPrefix(residual) + "_data" : residual.Signal + "_rd_data")}, {engine.ResidualBits}) when {l.Step},");
        lines.Add("  (others => '0') when others;");
        foreach (var l in jobs)
        {
            var b = l.Output;
            lines.Add($"{b.Signal}_wr_en <= eng_wr_en when step = {l.Step} else '0';");
            lines.Add($"{b.Signal}_wr_{(split(b) ? "elem" : "addr")} <= eng_wr_addr({b.ElementAddressBits - 1} downto 0);");
            lines.Add($"{b.Signal}_wr_data <= resize(eng_wr_data, {b.Width});");
        }
        lines.Add($"{EngineLabel} : entity work.{design.EngineEntity}");
        lines.Add($"  port map (clk => clk, rst => rst, start => eng_start, step => to_unsigned(step, {Vhdl.AddressBits(design.Layers.Count)}), done => eng_done,");
        lines.Add("            a_rd_addr => eng_a_addr, a_rd_data => eng_a_data, b_rd_addr => eng_b_addr, b_rd_data => eng_b_data,");
        lines.Add("            s_rd_addr => eng_s_addr, s_rd_data => eng_s_data,");
        lines.Add("            wr_en => eng_wr_en, wr_addr => eng_wr_addr, wr_data => eng_wr_data);");
        return lines;
    }

    private static string TestbenchVhdl(Design design, IntegerTransformer model, int windows, long maxCycles)
    {
        string top = design.Top;
        string Str(string s) => "\"" + s + "\"";
        var t = VhdlTemplate.Load(TestbenchFile).Rename("tb_tfpga_top", "tb_" + top).Rename("tfpga_top", top)
            .SetRegion("constants", [
                Vhdl.Natural("N_WINDOWS", windows),
                Vhdl.Positive("N_INPUTS", model.InputElements),
                Vhdl.Positive("N_OUTPUTS", design.OutputBuffer.Depth),
                Vhdl.Positive("X_AW", design.XAddressBits),
                Vhdl.Positive("X_DW", design.Input.Width),
                Vhdl.Positive("Y_AW", design.OutputBuffer.AddressBits),
                Vhdl.Positive("Y_DW", design.OutputBuffer.Width),
                Vhdl.Constant("X_FILE", "string", Str("vectors/" + top + "_x.txt")),
                Vhdl.Constant("EXPECTED_FILE", "string", Str("vectors/" + top + "_expected.txt")),
                Vhdl.Constant("OUT_FILE", "string", Str("vectors/" + top + "_out.txt")),
                Vhdl.Constant("CYCLES_FILE", "string", Str("vectors/" + top + "_cycles.txt")),
                Vhdl.Positive("MAX_CYCLES", Math.Min(maxCycles, int.MaxValue)),
            ]);
        return t.ToString();
    }

    private static string RunScript(string top) =>
        $$"""
        #!/bin/sh
        # Analyses the sources in sources.txt order and the testbench with GHDL (VHDL-2008), elaborates
        # and runs tb_{{top}}. The testbench writes vectors/{{top}}_out.txt and vectors/{{top}}_cycles.txt.
        # Exit status 0 when every output equals vectors/{{top}}_expected.txt, 1 otherwise.
        cd "$(dirname "$0")" || exit 1
        GHDL="${GHDL:-ghdl}"
        mkdir -p work || exit 1
        while IFS= read -r f || [ -n "$f" ]; do
          [ -z "$f" ] && continue
          "$GHDL" -a --std=08 --workdir=work "$f" || exit 1
        done < sources.txt
        "$GHDL" -a --std=08 --workdir=work tb_{{top}}.vhd || exit 1
        "$GHDL" -e --std=08 --workdir=work tb_{{top}} || exit 1
        "$GHDL" -r --std=08 --workdir=work tb_{{top}} --ieee-asserts=disable-at-0 || exit 1
        exit 0

        """;
}
