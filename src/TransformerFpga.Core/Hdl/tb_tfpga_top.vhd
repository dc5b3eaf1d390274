-- TransformerFpga self-checking testbench: drives only the top's ports. For every window it writes
-- the inputs, pulses start, counts the rising edges after the one that samples start up to and
-- including the one after which done is high, reads every output and compares it with the
-- simulator's expected value. Writes the outputs and cycle counts beside the vectors; ends with a
-- failure on any mismatch.
library ieee;
use ieee.std_logic_1164.all;
use ieee.numeric_std.all;
use std.textio.all;

entity tb_tfpga_top is
end entity;

architecture sim of tb_tfpga_top is
  -- tfpga:constants-begin
  constant N_WINDOWS     : natural := 1;
  constant N_INPUTS      : positive := 16;
  constant N_OUTPUTS     : positive := 1;
  constant X_AW          : positive := 4;
  constant X_DW          : positive := 8;
  constant Y_AW          : positive := 1;
  constant Y_DW          : positive := 8;
  constant X_FILE        : string := "vectors/tfpga_top_x.txt";
  constant EXPECTED_FILE : string := "vectors/tfpga_top_expected.txt";
  constant OUT_FILE      : string := "vectors/tfpga_top_out.txt";
  constant CYCLES_FILE   : string := "vectors/tfpga_top_cycles.txt";
  constant MAX_CYCLES    : positive := 1000000;
  -- tfpga:constants-end
  constant PERIOD : time := 10 ns;

  signal clk       : std_logic := '0';
  signal rst       : std_logic := '1';
  signal start     : std_logic := '0';
  signal busy      : std_logic;
  signal done      : std_logic;
  signal x_wr_en   : std_logic := '0';
  signal x_wr_addr : std_logic_vector(X_AW - 1 downto 0) := (others => '0');
  signal x_wr_data : std_logic_vector(X_DW - 1 downto 0) := (others => '0');
  signal y_rd_addr : std_logic_vector(Y_AW - 1 downto 0) := (others => '0');
  signal y_rd_data : std_logic_vector(Y_DW - 1 downto 0);
  signal finished  : boolean := false;
begin
  clk <= not clk after PERIOD / 2 when not finished;

  dut : entity work.tfpga_top
    port map (
      clk => clk, rst => rst, start => start, busy => busy, done => done,
      x_wr_en => x_wr_en, x_wr_addr => x_wr_addr, x_wr_data => x_wr_data,
      y_rd_addr => y_rd_addr, y_rd_data => y_rd_data);

  stimulus : process
    file f_x          : text open read_mode is X_FILE;
    file f_expected   : text open read_mode is EXPECTED_FILE;
    file f_out        : text open write_mode is OUT_FILE;
    file f_cycles     : text open write_mode is CYCLES_FILE;
    variable l, lo    : line;
    variable value    : integer;
    variable expected : integer;
    variable cycles   : natural;
    variable errors   : natural := 0;
  begin
    wait until falling_edge(clk);
    wait until falling_edge(clk);
    rst <= '0';
    for w in 0 to N_WINDOWS - 1 loop
      for a in 0 to N_INPUTS - 1 loop
        readline(f_x, l);
        read(l, value);
        x_wr_en   <= '1';
        x_wr_addr <= std_logic_vector(to_unsigned(a, X_AW));
        x_wr_data <= std_logic_vector(to_signed(value, X_DW));
        wait until falling_edge(clk);
      end loop;
      x_wr_en <= '0';
      start   <= '1';
      wait until falling_edge(clk);
      start  <= '0';
      cycles := 0;
      loop
        wait until falling_edge(clk);
        cycles := cycles + 1;
        exit when done = '1';
        assert cycles < MAX_CYCLES report "window " & integer'image(w) & ": no done after " & integer'image(cycles) & " cycles" severity failure;
      end loop;
      write(lo, cycles);
      writeline(f_cycles, lo);
      for a in 0 to N_OUTPUTS - 1 loop
        y_rd_addr <= std_logic_vector(to_unsigned(a, Y_AW));
        wait until falling_edge(clk);
        value := to_integer(signed(y_rd_data));
        readline(f_expected, l);
        read(l, expected);
        write(lo, value);
        writeline(f_out, lo);
        if value /= expected then
          errors := errors + 1;
          report "window " & integer'image(w) & " output " & integer'image(a) & ": got " & integer'image(value)
            & ", expected " & integer'image(expected) severity error;
        end if;
      end loop;
    end loop;
    finished <= true;
    assert errors = 0 report integer'image(errors) & " output mismatches" severity failure;
    report "all " & integer'image(N_WINDOWS * N_OUTPUTS) & " outputs match" severity note;
    wait;
  end process;
end architecture;
