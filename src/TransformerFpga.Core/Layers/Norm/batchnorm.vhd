-- TransformerFpga folded batch norm (BatchNormLayer.Simulate):
--   y[t, c] = sat(round((x[t, c] * M0[c] + B[c]) * 2^-SHIFT))
-- Streaming: one element per cycle through read, multiply-add, round, write.
-- Cycles: ROWS * DM + 3
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
  constant YB : positive := wr_data'length;
  type m0_rom_t is array (0 to maximum(DM, 2) - 1) of signed(M0_BITS - 1 downto 0);
  type off_rom_t is array (0 to maximum(DM, 2) - 1) of signed(OB - 1 downto 0);
  -- tfpga:rom-begin
  constant GAIN   : m0_rom_t := (0 => "01000000", 1 => "11000000");
  constant OFFSET : off_rom_t := (0 => "0000100000", 1 => "1111100000");
  -- tfpga:rom-end

  signal running : std_logic := '0';
  signal i       : natural range 0 to N := 0;
  signal c       : natural range 0 to DM := 0;
  signal v1, v2, v3, last1, last2, last3 : std_logic := '0';
  signal a1, a2, a3 : natural range 0 to N := 0;
  signal m_q     : signed(M0_BITS - 1 downto 0) := (others => '0');
  signal o_q     : signed(OB - 1 downto 0) := (others => '0');
  signal s2      : signed(S_BITS - 1 downto 0) := (others => '0');
  signal y3      : signed(YB - 1 downto 0) := (others => '0');
begin
  src0_rd_addr <= to_unsigned(i, src0_rd_addr'length);
  wr_en        <= v3;
  wr_addr      <= to_unsigned(a3, wr_addr'length);
  wr_data      <= y3;

  process (clk)
  begin
    if rising_edge(clk) then
      v1    <= running;
      a1    <= i;
      last1 <= '0';
      if i = N - 1 then last1 <= '1'; end if;
      if running = '1' then
        m_q <= GAIN(c);
        o_q <= OFFSET(c);
      end if;
      v2    <= v1;
      a2    <= a1;
      last2 <= last1;
      if v1 = '1' then
        s2    <= resize(src0_rd_data * m_q, S_BITS) + resize(o_q, S_BITS);
      end if;
      v3    <= v2;
      a3    <= a2;
      last3 <= last2;
      if v2 = '1' then
        y3    <= saturate(round_shift(s2, SHIFT), YB);
      end if;
      done  <= v3 and last3;
      if rst = '1' then
        running <= '0'; v1 <= '0'; v2 <= '0'; v3 <= '0'; done <= '0';
      elsif running = '0' then
        if start = '1' then
          running <= '1';
          i <= 0;
          c <= 0;
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
