-- TransformerFpga folded batch norm (BatchNormLayer.Simulate):
--   y[t, c] = sat(round((x[t, c] * M0[c] + B[c]) * 2^-SHIFT))
-- Streaming one element per cycle; every stage is one adder, one product or one lookup deep:
--   1 read, 2 register read data, 3 |x| and the gain word (sign and magnitude),
--   4 product |x|*|M0[c]| and the offset word, 5 sign restored plus B[c], 6 |sum|, 7 rounded shift,
--   8 sign and saturation; written next edge.
-- Cycles: ROWS * DM + 8
library ieee;
use ieee.std_logic_1164.all;
use ieee.numeric_std.all;
use work.tfpga_pkg.all;

entity tfpga_batchnorm is
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

architecture rtl of tfpga_batchnorm is
  -- tfpga:constants-begin
  constant ROWS    : positive := 2;
  constant DM      : positive := 2;
  constant M0_BITS : positive := 8;
  constant OB      : positive := 10;
  constant S_BITS  : positive := 17;
  constant SHIFT   : natural := 6;
  -- tfpga:constants-end
  constant N  : positive := ROWS * DM;
  constant XB : positive := src0_rd_data'length;
  constant YB : positive := wr_data'length;
  constant DEPTH : positive := 8;  -- stages from the address to the written value
  -- GAIN holds sign and magnitude: bit M0_BITS - 1 is the sign of M0[c], the rest |M0[c]|.
  type m0_rom_t is array (0 to maximum(DM, 2) - 1) of unsigned(M0_BITS - 1 downto 0);
  type off_rom_t is array (0 to maximum(DM, 2) - 1) of signed(OB - 1 downto 0);
  -- tfpga:rom-begin
  constant GAIN   : m0_rom_t := (0 => "01000000", 1 => "11000000");
  constant OFFSET : off_rom_t := (0 => "0000100000", 1 => "1111100000");
  -- tfpga:rom-end
  type channel_t is array (1 to 3) of natural range 0 to DM - 1;

  signal running : std_logic := '0';
  signal i       : natural range 0 to N - 1 := 0;
  signal c       : natural range 0 to DM - 1 := 0;
  signal channel : channel_t := (others => 0);
  signal valid   : std_logic_vector(1 to DEPTH) := (others => '0');
  signal last    : std_logic_vector(1 to DEPTH) := (others => '0');
  signal waddr   : natural range 0 to N - 1 := 0;
  signal x_q     : signed(XB - 1 downto 0) := (others => '0');
  signal x_mag   : unsigned(XB - 1 downto 0) := (others => '0');
  signal x_neg3  : std_logic := '0';
  signal g3      : unsigned(M0_BITS - 1 downto 0) := (others => '0');
  signal neg4, neg6, neg7 : std_logic := '0';
  signal p4      : unsigned(XB + M0_BITS - 2 downto 0) := (others => '0');
  signal o4      : signed(OB - 1 downto 0) := (others => '0');
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
      valid   <= running & valid(1 to DEPTH - 1);
      last    <= '0' & last(1 to DEPTH - 1);
      if running = '1' and i = N - 1 then last(1) <= '1'; end if;
      channel <= c & channel(1 to 2);
      x_q     <= src0_rd_data;
      x_mag   <= magnitude(x_q);
      x_neg3  <= x_q(XB - 1);
      g3      <= GAIN(channel(2));
      p4      <= x_mag * g3(M0_BITS - 2 downto 0);
      neg4    <= x_neg3 xor g3(M0_BITS - 1);
      o4      <= OFFSET(channel(3));
      s5      <= signed_of(p4, neg4) + resize(o4, S_BITS);
      m6      <= magnitude(s5);
      neg6    <= s5(S_BITS - 1);
      r7      <= round_half_up(m6, SHIFT);
      neg7    <= neg6;
      y8      <= signed_saturate(r7, neg7, YB);
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
          c <= 0;
          waddr <= 0;
        end if;
      else
        if i = N - 1 then
          running <= '0';
        else
          i <= i + 1;
          if c = DM - 1 then c <= 0; else c <= c + 1; end if;
        end if;
      end if;
    end if;
  end process;
end architecture;
