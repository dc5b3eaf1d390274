using System.Globalization;
using System.Text;
using TransformerFpga.Pipeline;
using TransformerFpga.Reports;

namespace TransformerFpga.Hdl;

/// <summary>yosys/synth.ys (GHDL → Verilog → synth_xilinx) and vivado/build.tcl + constraints.xdc.</summary>
public static class SynthesisScripts
{
    /// <param name="boardConstraints">Full paths of the user's XDC files (pins, I/O standards); none = out-of-context flow.</param>
    public static void Generate(HdlGenerator.Design design, string part, double clockMHz, OutputWriter outputs, IReadOnlyList<string>? boardConstraints = null)
    {
        string top = design.Top;
        var ys = new List<string>
        {
            "# Open-source synthesis for Xilinx 7-series. Run from the output folder (the one holding hdl/):",
            "#   yosys -s yosys/synth.ys",
            "# yosys/ghdl-verilog.sh turns the VHDL-2008 sources into Verilog with GHDL. GHDL drops VHDL",
            "# attributes, so each buffer's ram_style is set again below; synth_xilinx maps the design and",
            "# stat -tech xilinx counts the cells.",
            "! sh yosys/ghdl-verilog.sh",
            $"read_verilog yosys/work/{top}.v",
            $"hierarchy -top {top}",
        };
        foreach (var b in design.Buffers)
            ys.Add($"setattr -set ram_style \"{HdlGenerator.RamStyle(b.Resource)}\" {b.Entity}/m:mem");
        // (entity, instance label in the top, register the ROM is read into, memory) of every weight ROM the design chose
        var chosen = design.Layers.Where(l => l.Weights != BufferResource.Auto)
            .Select(l => (l.Entity, Label: HdlGenerator.InstanceLabel(l), Register: l.Datapath.WeightReadRegister!, l.Weights)).ToList();
        // the engine's ROMs of a chosen memory that hold weights
        if (design.Engine is { } engine)
            foreach (var (rom, slot) in engine.WeightRoms.Zip(Engine.MacEngine.WeightRomSlots).Where(x => x.Second.Memory != BufferResource.Auto && x.First.VaryingWidth > 0))
                chosen.Add((design.EngineEntity, HdlGenerator.EngineLabel, slot.Register, slot.Memory));
        if (chosen.Count == 0)
            ys.Add($"synth_xilinx -family xc7 -noiopad -top {top}");
        else
        {
            // GHDL names a ROM n<number>, so a chosen weight memory is set on the memory the layer's weight register
            // reads, once synth_xilinx has collected memories and before it maps them; "logic" keeps a ROM out of block
            // RAM (Yosys' "distributed" means LUT RAM) and is dropped again before memories become logic, which it would
            // otherwise change. The second selection is the same memory in a flattened run (synth_xilinx -flatten).
            ys.Add("# The weight ROMs whose memory was chosen (WeightResource items, the engine's Auto rule), set between collecting and mapping memories.");
            ys.Add($"synth_xilinx -family xc7 -noiopad -top {top} -run :map_memory");
            foreach (var (entity, label, register, weights) in chosen)
            {
                string style = weights == BufferResource.Block ? "block" : "logic";
                ys.Add($"setattr -set rom_style \"{style}\" {entity}/w:{register} %ci2 {entity}/t:$mem_v2 %i");
                ys.Add($"setattr -set rom_style \"{style}\" {top}/w:{label}.{register} %ci2 {top}/t:$mem_v2 %i");
            }
            ys.Add($"synth_xilinx -family xc7 -noiopad -top {top} -run map_memory:map_ffram");
            ys.Add("setattr -unset rom_style t:$mem_v2");
            ys.Add($"synth_xilinx -family xc7 -noiopad -top {top} -run map_ffram:");
        }
        ys.Add("stat -tech xilinx");
        outputs.Add("yosys/synth.ys", string.Join("\n", ys) + "\n");
        outputs.Add("yosys/ghdl-verilog.sh",
            $$"""
            #!/bin/sh
            # VHDL-2008 → Verilog for Yosys (run from the output folder, the one holding hdl/).
            # GHDL writes one-hot case statements without a default branch, which Yosys would turn into
            # latches; the perl filter adds "default: <first target> <= 'bx;" before each endcase.
            # A ROM signal (one with a rom_style, for Vivado) would come out of GHDL as one literal, which
            # Yosys' lexer cannot read at a few hundred kbit; analysed as a constant it becomes a memory
            # (GHDL drops the attribute either way; synth.ys sets it again).
            set -e
            mkdir -p yosys/work/src
            cd hdl
            for f in $(cat sources.txt); do
              perl -0pe 'for my $n (/attribute rom_style of (\w+) : signal is/g) {
                  s/\bsignal $n :/constant $n :/g; s/(attribute rom_style of $n : )signal is/$1constant is/g; }' "$f" > ../yosys/work/src/"$f"
            done
            (cd ../yosys/work/src && ghdl -a --std=08 --workdir=.. $(cat ../../../hdl/sources.txt))
            ghdl --synth --std=08 --workdir=../yosys/work --out=verilog {{top}} > ../yosys/work/{{top}}.ghdl.v
            perl -ne 'if (/^\s*case \(/) { $in = 1; $lhs = ""; }
              if ($in && $lhs eq "" && /:\s*([\w\\\$\[\]:.]+)\s*<=/) { $lhs = $1; }
              if ($in && /^\s*endcase/) { print "      default: $lhs <= \x27bx;\n" if $lhs ne ""; $in = 0; }
              print;' ../yosys/work/{{top}}.ghdl.v > ../yosys/work/{{top}}.v

            """);

        string period = (1000.0 / clockMHz).ToString("0.###", CultureInfo.InvariantCulture);
        outputs.Add("vivado/constraints.xdc",
            $"# {top}: clock constraint ({clockMHz.ToString(CultureInfo.InvariantCulture)} MHz). Pins and I/O standards come from the FpgaConstraints items.\n" +
            $"create_clock -period {period} -name clk [get_ports clk]\n");
        outputs.Add("vivado/build.tcl", VivadoFlow(top, part, boardConstraints ?? []));
    }

    /// <summary>
    /// The non-project flow: synthesis, opt, place, route with a checkpoint after each step, the reports, and a
    /// non-zero exit on negative setup or hold slack. With board constraints (pins, I/O standards) the top gets
    /// I/O buffers and a bitstream; without them the design is synthesized out of context (no I/O buffers, no pin
    /// assignment needed), so the flow runs through on any machine with Vivado, and no bitstream is written.
    /// </summary>
    private static string VivadoFlow(string top, string part, IReadOnlyList<string> boardConstraints)
    {
        bool board = boardConstraints.Count > 0;
        var tcl = new List<string>
        {
            $"# Vivado non-project flow for {top} on {part}. Run from the output folder (the one holding hdl/):",
            "#   vivado -mode batch -source vivado/build.tcl",
            "# Checkpoints and reports go to vivado-out/. Exit status 1 when the routed design misses timing.",
            board
                ? "# Board constraints given (FpgaConstraints): full implementation with I/O buffers and a bitstream."
                : "# No board constraints (FpgaConstraints): out-of-context synthesis and implementation, no I/O buffers, no bitstream.",
            $"set top {top}",
            $"set part {part}",
            "set here [file normalize [file dirname [info script]]]",
            "set hdl [file normalize [file join $here .. hdl]]",
            "set out [file normalize [file join $here .. vivado-out]]",
            "file mkdir $out",
            "set sources [open [file join $hdl sources.txt] r]",
            "foreach line [split [read $sources] \"\\n\"] {",
            "    set line [string trim $line]",
            "    if {$line ne \"\"} { read_vhdl -vhdl2008 [file join $hdl $line] }",
            "}",
            "close $sources",
            "read_xdc [file join $here constraints.xdc]",
        };
        foreach (string xdc in boardConstraints) tcl.Add("read_xdc " + TclQuote(xdc));
        tcl.AddRange(
        [
            board ? "synth_design -top $top -part $part" : "synth_design -top $top -part $part -mode out_of_context",
            "write_checkpoint -force [file join $out post_synth.dcp]",
            "opt_design",
            "write_checkpoint -force [file join $out post_opt.dcp]",
            "place_design",
            "write_checkpoint -force [file join $out post_place.dcp]",
            "route_design",
            "write_checkpoint -force [file join $out post_route.dcp]",
            "report_utilization -file [file join $out utilization.rpt]",
            "report_utilization -hierarchical -file [file join $out utilization_hierarchical.rpt]",
            "report_timing_summary -file [file join $out timing_summary.rpt]",
            "report_power -hierarchical_depth 2 -file [file join $out power.rpt]",
            "report_drc -file [file join $out drc.rpt]",
            "# Worst setup (WNS) and hold (WHS) slack of the routed design; no path at all means the clock is not constrained.",
            "set failed 0",
            "foreach {check name} {-setup WNS -hold WHS} {",
            "    set paths [get_timing_paths $check -max_paths 1 -nworst 1]",
            "    set slack [expr {[llength $paths] > 0 ? [get_property SLACK [lindex $paths 0]] : \"\"}]",
            "    if {$slack eq \"\"} {",
            "        puts \"ERROR: no timed path for $name; check the clock constraint in vivado/constraints.xdc\"",
            "        set failed 1",
            "    } elseif {$slack < 0} {",
            "        puts \"ERROR: timing not met: $name $slack ns (see [file join $out timing_summary.rpt])\"",
            "        set failed 1",
            "    } else {",
            "        puts \"$name $slack ns\"",
            "    }",
            "}",
            "if {$failed} { exit 1 }",
        ]);
        if (board) tcl.Add("write_bitstream -force [file join $out $top.bit]");
        return string.Join("\n", tcl) + "\n";
    }

    /// <summary>
    /// A file path as one TCL word: inside double quotes only $ [ ] \ and " are special, each escaped; a line
    /// break becomes \n. Windows separators become / (Vivado accepts both).
    /// </summary>
    private static string TclQuote(string path)
    {
        if (Path.DirectorySeparatorChar == '\\') path = path.Replace('\\', '/');
        var quoted = new StringBuilder("\"");
        foreach (char c in path)
        {
            if (c is '$' or '[' or ']' or '\\' or '"') quoted.Append('\\').Append(c);
            else if (c == '\n') quoted.Append("\\n");
            else if (c == '\r') quoted.Append("\\r");
            else quoted.Append(c);
        }
        return quoted.Append('"').ToString();
    }
}
