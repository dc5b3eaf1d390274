-- TransformerFpga positional encoding (PositionalEncodingLayer.Simulate):
--   y[i] = sat(round((x[i] * M0 + P[i]) * 2^-SHIFT)), P a ROM of the encoding pre-shifted by SHIFT.
-- Streaming one element per cycle; every stage is one adder, one product or one lookup deep:
--   1 read, 2 register read data, 3 |x|, 4 product |x|*M0 (M0 >= 0) and the ROM word,
--   5 sign restored plus P, 6 |sum|, 7 rounded shift, 8 sign and saturation; written next edge.
-- Cycles: N + 8
library ieee;
use ieee.std_logic_1164.all;
use ieee.numeric_std.all;
use work.tfpga_pkg.all;

entity tfpga_posenc is
  port (
    clk          : in  std_logic;
    rst          : in  std_logic;
    start        : in  std_logic;
    done         : out std_logic;
    -- tfpga:ports-begin
    src0_rd_addr : out unsigned(1 downto 0);
    src0_rd_data : in  signed(7 downto 0);
    wr_en        : out std_logic;
    wr_addr      : out unsigned(1 downto 0);
    wr_data      : out signed(7 downto 0)
    -- tfpga:ports-end
  );
end entity;

architecture rtl of tfpga_posenc is
  -- tfpga:constants-begin
  constant N       : positive := 4;
  constant M0_BITS : positive := 8;
  constant M0      : unsigned(M0_BITS - 1 downto 0) := "01000000";
  constant TB      : positive := 10;
  constant S_BITS  : positive := 17;
  constant SHIFT   : natural := 6;
  -- tfpga:constants-end
  constant XB : positive := src0_rd_data'length;
  constant YB : positive := wr_data'length;
  constant DEPTH : positive := 8;  -- stages from the address to the written value
  type table_t is array (0 to maximum(N, 2) - 1) of signed(TB - 1 downto 0);
  -- tfpga:rom-begin
  constant TABLE : table_t := (0 => "0000000000", 1 => "0001000000", 2 => "0000110110", 3 => "0000100010");
  -- tfpga:rom-end
  type index_t is array (1 to 3) of natural range 0 to N - 1;

  signal running : std_logic := '0';
  signal i       : natural range 0 to N - 1 := 0;
  signal index   : index_t := (others => 0);
  signal valid   : std_logic_vector(1 to DEPTH) := (others => '0');
  signal last    : std_logic_vector(1 to DEPTH) := (others => '0');
  signal waddr   : natural range 0 to N - 1 := 0;
  signal x_q     : signed(XB - 1 downto 0) := (others => '0');
  signal x_mag   : unsigned(XB - 1 downto 0) := (others => '0');
  signal neg3, neg4, neg6, neg7 : std_logic := '0';
  signal p4      : unsigned(XB + M0_BITS - 1 downto 0) := (others => '0');
  signal t4      : signed(TB - 1 downto 0) := (others => '0');
  signal s5      : signed(S_BITS - 1 downto 0) := (others => '0');
  signal m6      : unsigned(S_BITS - 1 downto 0) := (others => '0');
  signal r7      : unsigned(S_BITS - 1 downto 0) := (others => '0');
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
  wr_en        <= valid(DEPTH);
  wr_addr      <= to_unsigned(waddr, wr_addr'length);
  wr_data      <= y8;

  process (clk)
  begin
    if rising_edge(clk) then
      valid <= running & valid(1 to DEPTH - 1);
      last  <= '0' & last(1 to DEPTH - 1);
      if running = '1' and i = N - 1 then last(1) <= '1'; end if;
      index <= i & index(1 to 2);
      x_q   <= src0_rd_data;
      x_mag <= magnitude(x_q);
      neg3  <= x_q(XB - 1);
      p4    <= x_mag * M0;
      t4    <= TABLE(index(3));
      neg4  <= neg3;
      s5    <= signed_of(p4, neg4) + resize(t4, S_BITS);
      m6    <= magnitude(s5);
      neg6  <= s5(S_BITS - 1);
      r7    <= round_half_up(m6, SHIFT);
      neg7  <= neg6;
      y8    <= signed_saturate(r7, neg7, YB);
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
