using System.Globalization;
using System.Text;
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
    public sealed record BufferInfo(string Name, string Entity, string Signal, long Depth, int Width, BufferResource Resource, int Banks = 1)
    {
        /// <summary>Words per bank (the depth of each RAM).</summary>
        public long BankDepth => Depth / Banks;
        /// <summary>Width of the (per-bank) address.</summary>
        public int AddressBits => Vhdl.AddressBits(BankDepth);
        /// <summary>Width of one read: Banks elements.</summary>
        public int ReadWidth => Width * Banks;
    }

    /// <summary>One hardware layer: its sequencer step, entity and buffers.</summary>
    /// <param name="Weights">Where the weight ROM goes (a WeightResource item); Auto = synthesis' cost rule.</param>
    public sealed record LayerInfo(int Step, QuantizedLayer Layer, string Entity, string Instance, int Lanes, BufferInfo Output, IReadOnlyList<BufferInfo> Sources,
        bool LutMultipliers = false, BufferResource Weights = BufferResource.Auto)
    {
        /// <summary>The layer's datapath (hardware layers always have one).</summary>
        public LayerDatapath Datapath => Layer.Datapath ?? throw new InvalidOperationException($"layer '{Layer.Name}' has no hardware of its own");
    }

    /// <summary>The structure of the design (used by the generator, the Yosys script and tests).</summary>
    public sealed record Design(string Top, BufferInfo Input, IReadOnlyList<LayerInfo> Layers, IReadOnlyList<BufferInfo> Buffers)
    {
        public BufferInfo OutputBuffer => Layers[^1].Output;
    }

    /// <summary>The instance label of a layer in the top (what Vivado's hierarchical report names it).</summary>
    public static string InstanceLabel(LayerInfo layer) => "u_" + layer.Instance;

    /// <summary>The instance labels of a buffer's RAMs in the top: one, or one per column bank.</summary>
    public static IReadOnlyList<string> InstanceLabels(BufferInfo buffer) => buffer.Banks == 1
        ? ["b_" + buffer.Signal[4..]]
        : Enumerable.Range(0, buffer.Banks).Select(k => "b_" + buffer.Signal[4..] + "_" + k.ToString(CultureInfo.InvariantCulture)).ToList();

    /// <summary>The instance label of a buffer's read-address multiplexer (only buffers with several readers have one).</summary>
    public static string MuxLabel(BufferInfo buffer) => "m_" + buffer.Signal[4..];

    public static Design Plan(IntegerTransformer model, LayerPlan plan, string topName)
    {
        string top = Vhdl.TopIdentifier(topName);
        var input = new BufferInfo("input", top + "_input_buf", "buf_input", model.InputElements, model.Input.Bits,
            HardwareModel.Buffer(model.InputElements, model.Input.Bits, BufferResource.Auto));
        var buffers = new List<BufferInfo> { input };
        var byOwner = new Dictionary<QuantizedLayer, BufferInfo>();
        var layers = new List<LayerInfo>();
        // Column banks of Q, K (read by scores) and V (read by context): the reader's lanes.
        var banks = new Dictionary<QuantizedLayer, int>();
        foreach (var layer in model.Layers)
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
            string name = Vhdl.Identifier(layer.Name, "layer");
            var choice = plan[layer.Name];
            var output = new BufferInfo(layer.Name, top + "_" + name + "_buf", "buf_" + name, layer.Elements, layer.Output.Bits,
                HardwareModel.Buffer(layer.Elements, layer.Output.Bits, choice.Buffer), banks.GetValueOrDefault(layer, 1));
            byOwner[layer] = output;
            buffers.Add(output);
            var sources = layer.Sources.Count == 0 ? [input] : layer.Sources.Select(s => byOwner[s.BufferOwner]).ToList();
            layers.Add(new LayerInfo(layers.Count, layer, top + "_" + name, name, HardwareModel.Lanes(layer, choice), output, sources,
                HardwareModel.LutMultipliers(choice), layer.Datapath!.HasWeightRom ? choice.Weights : BufferResource.Auto));
        }
        return new Design(top, input, layers, buffers);
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
        foreach (var layer in design.Layers)
        {
            string file = layer.Entity + ".vhd";
            outputs.Add("hdl/" + file, LayerVhdl(layer));
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

    internal static string LayerVhdl(LayerInfo info)
    {
        var t = VhdlTemplate.Load(info.Datapath.Template).Rename(info.Datapath.TemplateEntity, info.Entity);
        for (int k = 0; k < info.Sources.Count; k++)
            t.SetPortWidth($"src{k}_rd_addr", info.Sources[k].AddressBits).SetPortWidth($"src{k}_rd_data", info.Sources[k].ReadWidth);
        t.SetPortWidth("wr_addr", info.Output.AddressBits).SetPortWidth("wr_data", info.Output.Width);
        info.Datapath.Fill(t, info.Lanes, info.LutMultipliers, info.Output.Banks, info.Weights);
        return t.ToString();
    }

    private static string TopVhdl(Design design, IntegerTransformer model)
    {
        var t = VhdlTemplate.Load(TopFile).Rename("tfpga_top", design.Top)
            .SetPortWidth("x_wr_addr", design.Input.AddressBits).SetPortWidth("x_wr_data", design.Input.Width)
            .SetPortWidth("y_rd_addr", design.OutputBuffer.AddressBits).SetPortWidth("y_rd_data", design.OutputBuffer.Width)
            .SetRegion("constants", [Vhdl.Positive("N_LAYERS", design.Layers.Count)]);

        // Readers of each buffer: (step, address signal).
        var readers = design.Buffers.ToDictionary(b => b, _ => new List<(int Step, string Address)>());
        foreach (var layer in design.Layers)
            for (int k = 0; k < layer.Sources.Count; k++)
                readers[layer.Sources[k]].Add((layer.Step, $"lyr_{layer.Instance}_src{k}_addr"));

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
                signals.Add($"signal {s}_wr_ens  : std_logic_vector(0 to {b.Banks - 1});");
            }
            var r = readers[b];
            if (r.Count > 1) signals.Add($"signal {s}_rd_addrs : unsigned({r.Count * b.AddressBits - 1} downto 0);");
        }
        foreach (var layer in design.Layers)
            for (int k = 0; k < layer.Sources.Count; k++)
                signals.Add($"signal lyr_{layer.Instance}_src{k}_addr : unsigned({layer.Sources[k].AddressBits - 1} downto 0);");
        t.SetRegion("signals", signals);

        var input = design.Input;
        body.Add("-- the input window, written through the x port");
        body.Add($"{input.Signal}_wr_en   <= x_wr_en;");
        body.Add($"{input.Signal}_wr_addr <= unsigned(x_wr_addr);");
        body.Add($"{input.Signal}_wr_data <= signed(x_wr_data);");
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
                for (int k = 0; k < b.Banks; k++)
                {
                    body.Add($"{b.Signal}_wr_ens({k}) <= {b.Signal}_wr_en when {b.Signal}_wr_bank = {k} else '0';");
                    body.Add($"{labels[k]} : entity work.{b.Entity}");
                    body.Add($"  port map (clk => clk, wr_en => {b.Signal}_wr_ens({k}), wr_addr => {b.Signal}_wr_addr, wr_data => {b.Signal}_wr_data,");
                    body.Add($"            rd_addr => {b.Signal}_rd_addr, rd_data => {b.Signal}_rd_data({(k + 1) * b.Width - 1} downto {k * b.Width}));");
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
        foreach (var layer in design.Layers)
        {
            string own = layer.Output.Signal;
            body.Add($"-- step {layer.Step}: {layer.Layer.Name} ({layer.Layer.Kind}, {layer.Lanes} lane{(layer.Lanes == 1 ? "" : "s")})");
            body.Add($"{InstanceLabel(layer)} : entity work.{layer.Entity}");
            body.Add($"  port map (clk => clk, rst => rst, start => starts({layer.Step}), done => dones({layer.Step}),");
            for (int k = 0; k < layer.Sources.Count; k++)
                body.Add($"            src{k}_rd_addr => lyr_{layer.Instance}_src{k}_addr, src{k}_rd_data => {layer.Sources[k].Signal}_rd_data,");
            if (layer.Datapath.WritesBanks)
                body.Add($"            wr_bank => {(layer.Output.Banks > 1 ? own + "_wr_bank" : "open")},");
            body.Add($"            wr_en => {own}_wr_en, wr_addr => {own}_wr_addr, wr_data => {own}_wr_data);");
            body.Add("");
        }
        t.SetRegion("instances", body);
        return t.ToString();
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
                Vhdl.Positive("X_AW", design.Input.AddressBits),
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
