using System.Globalization;
using TransformerFpga.Pipeline;
using TransformerFpga.Reports;

namespace TransformerFpga.Hdl;

/// <summary>yosys/synth.ys (GHDL → Verilog → synth_xilinx) and vivado/build.tcl + constraints.xdc.</summary>
public static class SynthesisScripts
{
    public static void Generate(HdlGenerator.Design design, string part, double clockMHz, OutputWriter outputs)
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
        ys.Add($"synth_xilinx -family xc7 -noiopad -top {top}");
        ys.Add("stat -tech xilinx");
        outputs.Add("yosys/synth.ys", string.Join("\n", ys) + "\n");
        outputs.Add("yosys/ghdl-verilog.sh",
            $$"""
            #!/bin/sh
            # VHDL-2008 → Verilog for Yosys (run from the output folder, the one holding hdl/).
            # GHDL writes one-hot case statements without a default branch, which Yosys would turn into
            # latches; the perl filter adds "default: <first target> <= 'bx;" before each endcase.
            set -e
            mkdir -p yosys/work
            cd hdl
            ghdl -a --std=08 --workdir=../yosys/work $(cat sources.txt)
            ghdl --synth --std=08 --workdir=../yosys/work --out=verilog {{top}} > ../yosys/work/{{top}}.ghdl.v
            perl -ne 'if (/^\s*case \(/) { $in = 1; $lhs = ""; }
              if ($in && $lhs eq "" && /:\s*([\w\\\$\[\]:.]+)\s*<=/) { $lhs = $1; }
              if ($in && /^\s*endcase/) { print "      default: $lhs <= \x27bx;\n" if $lhs ne ""; $in = 0; }
              print;' ../yosys/work/{{top}}.ghdl.v > ../yosys/work/{{top}}.v

            """);

        string period = (1000.0 / clockMHz).ToString("0.###", CultureInfo.InvariantCulture);
        outputs.Add("vivado/constraints.xdc",
            $"# {top}: clock constraint ({clockMHz.ToString(CultureInfo.InvariantCulture)} MHz). Add the pin assignments of your board.\n" +
            $"create_clock -period {period} -name clk [get_ports clk]\n");
        outputs.Add("vivado/build.tcl",
            $$"""
            # Vivado non-project flow for {{top}} on {{part}}. Run from the output folder (the one holding hdl/):
            #   vivado -mode batch -source vivado/build.tcl   (reports and bitstream go to vivado-out/)
            set top {{top}}
            set part {{part}}
            set here [file normalize [file dirname [info script]]]
            set hdl [file normalize [file join $here .. hdl]]
            set out [file normalize [file join $here .. vivado-out]]
            file mkdir $out
            set sources [open [file join $hdl sources.txt] r]
            foreach line [split [read $sources] "\n"] {
                set line [string trim $line]
                if {$line ne ""} { read_vhdl -vhdl2008 [file join $hdl $line] }
            }
            close $sources
            read_xdc [file join $here constraints.xdc]
            synth_design -top $top -part $part
            opt_design
            place_design
            route_design
            report_utilization -file [file join $out utilization.rpt]
            report_utilization -hierarchical -file [file join $out utilization_hierarchical.rpt]
            report_timing_summary -file [file join $out timing_summary.rpt]
            report_power -hierarchical_depth 2 -file [file join $out power.rpt]
            write_bitstream -force [file join $out $top.bit]

            """);
    }
}
