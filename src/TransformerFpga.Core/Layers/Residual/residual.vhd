-- TransformerFpga residual add (ResidualAddLayer.Simulate):
--   y[i] = sat(round((a[i] * MA + b[i] * MB) * 2^-SHIFT))
-- Streaming one element per cycle; every stage is one adder, one product or one clamp deep:
--   1 read, 2 register read data, 3 magnitudes, 4 products |a|*MA and |b|*MB (MA, MB >= 0),
--   5 signs restored and summed, 6 |sum|, 7 rounded shift, 8 sign and saturation; written next edge.
-- Cycles: N + 8
library ieee;
use ieee.std_logic_1164.all;
use ieee.numeric_std.all;
use work.tfpga_pkg.all;

entity tfpga_residual is
  port (
    clk          : in  std_logic;
    rst          : in  std_logic;
    start        : in  std_logic;
    done         : out std_logic;
    -- tfpga:ports-begin
    src0_rd_addr : out unsigned(1 downto 0);
    src0_rd_data : in  signed(7 downto 0);
    src1_rd_addr : out unsigned(1 downto 0);
    src1_rd_data : in  signed(7 downto 0);
    wr_en        : out std_logic;
    wr_addr      : out unsigned(1 downto 0);
    wr_data      : out signed(7 downto 0)
    -- tfpga:ports-end
  );
end entity;

architecture rtl of tfpga_residual is
  -- tfpga:constants-begin
  constant N       : positive := 4;
  constant M0_BITS : positive := 8;
  constant MA      : unsigned(M0_BITS - 1 downto 0) := "01000000";
  constant MB      : unsigned(M0_BITS - 1 downto 0) := "00100000";
  constant S_BITS  : positive := 18;
  constant SHIFT   : natural := 6;
  -- tfpga:constants-end
  constant AB : positive := src0_rd_data'length;
  constant BB : positive := src1_rd_data'length;
  constant YB : positive := wr_data'length;
  constant DEPTH : positive := 8;  -- stages from the address to the written value

  signal running : std_logic := '0';
  signal i       : natural range 0 to N - 1 := 0;
  signal valid   : std_logic_vector(1 to DEPTH) := (others => '0');
  signal last    : std_logic_vector(1 to DEPTH) := (others => '0');
  signal waddr   : natural range 0 to N - 1 := 0;
  signal a_q     : signed(AB - 1 downto 0) := (others => '0');
  signal b_q     : signed(BB - 1 downto 0) := (others => '0');
  signal a_neg3, a_neg4 : std_logic := '0';
  signal b_neg3, b_neg4 : std_logic := '0';
  signal a_mag   : unsigned(AB - 1 downto 0) := (others => '0');
  signal b_mag   : unsigned(BB - 1 downto 0) := (others => '0');
  signal pa      : unsigned(AB + M0_BITS - 1 downto 0) := (others => '0');
  signal pb      : unsigned(BB + M0_BITS - 1 downto 0) := (others => '0');
  signal s5      : signed(S_BITS - 1 downto 0) := (others => '0');
  signal m6      : unsigned(S_BITS - 1 downto 0) := (others => '0');
  signal r7      : unsigned(S_BITS - 1 downto 0) := (others => '0');
  signal neg6, neg7 : std_logic := '0';
  signal y8      : signed(YB - 1 downto 0) := (others => '0');

  function signed_of(p : unsigned; negative : std_logic) return signed is
    variable v : signed(S_BITS - 1 downto 0) := signed(resize(p, S_BITS));
  begin
    if negative = '1' then
      return -v;
    end if;
    return v;
  end function;
begin
  src0_rd_addr <= to_unsigned(i, src0_rd_addr'length);
  src1_rd_addr <= to_unsigned(i, src1_rd_addr'length);
  wr_en        <= valid(DEPTH);
  wr_addr      <= to_unsigned(waddr, wr_addr'length);
  wr_data      <= y8;

  process (clk)
  begin
    if rising_edge(clk) then
      valid <= running & valid(1 to DEPTH - 1);
      last  <= '0' & last(1 to DEPTH - 1);
      if running = '1' and i = N - 1 then last(1) <= '1'; end if;
      a_q    <= src0_rd_data;
      b_q    <= src1_rd_data;
      a_mag  <= magnitude(a_q);
      b_mag  <= magnitude(b_q);
      a_neg3 <= a_q(AB - 1);
      b_neg3 <= b_q(BB - 1);
      pa     <= a_mag * MA;
      pb     <= b_mag * MB;
      a_neg4 <= a_neg3;
      b_neg4 <= b_neg3;
      s5     <= signed_of(pa, a_neg4) + signed_of(pb, b_neg4);
      m6     <= magnitude(s5);
      neg6   <= s5(S_BITS - 1);
      r7     <= round_half_up(m6, SHIFT);
      neg7   <= neg6;
      y8     <= signed_saturate(r7, neg7, YB);
      if valid(DEPTH) = '1' then
        if waddr /= N - 1 then waddr <= waddr + 1; end if;
      end if;
      done <= valid(DEPTH) and last(DEPTH);
      if rst = '1' then
        running <= '0'; valid <= (others => '0'); done <= '0';
      elsif running = '0' then
        if start = '1' then
          running <= '1';
          i <= 0;
          waddr <= 0;
        end if;
      else
        if i = N - 1 then
          running <= '0';
        else
          i <= i + 1;
        end if;
      end if;
    end if;
  end process;
end architecture;
