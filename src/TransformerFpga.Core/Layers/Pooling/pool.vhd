-- TransformerFpga global average pooling (AveragePoolLayer.Simulate):
--   y[c] = sat(round((sum_t x[t, c]) * M0 * 2^-SHIFT)), 1/WIN folded into M0 (M0 >= 0).
-- Reads stream channel by channel, one element per cycle; every stage is one adder, one product or
-- one clamp deep: 1 read, 2 register read data, 3 accumulate (restarting at t = 0), 4 |sum| of the
-- channel, 5 product |sum|*M0, 6 rounded shift, 7 sign and saturation; written next edge. The next
-- channel accumulates while the previous one is requantized.
-- Cycles: WIN * DM + 7
library ieee;
use ieee.std_logic_1164.all;
use ieee.numeric_std.all;
use work.tfpga_pkg.all;

entity tfpga_pool is
  port (
    clk          : in  std_logic;
    rst          : in  std_logic;
    start        : in  std_logic;
    done         : out std_logic;
    -- tfpga:ports-begin
    src0_rd_addr : out unsigned(2 downto 0);
    src0_rd_data : in  signed(7 downto 0);
    wr_en        : out std_logic;
    wr_addr      : out unsigned(1 downto 0);
    wr_data      : out signed(7 downto 0)
    -- tfpga:ports-end
  );
end entity;

architecture rtl of tfpga_pool is
  -- tfpga:constants-begin
  constant WIN      : positive := 2;
  constant DM       : positive := 4;
  constant ACC_BITS : positive := 10;
  constant M0_BITS  : positive := 8;
  constant M0       : unsigned(M0_BITS - 1 downto 0) := "01000000";
  constant SHIFT    : natural := 7;
  -- tfpga:constants-end
  constant XB     : positive := src0_rd_data'length;
  constant YB     : positive := wr_data'length;
  constant P_BITS : positive := ACC_BITS + M0_BITS;
  constant DEPTH  : positive := 7;  -- stages from the address to the written value

  signal running : std_logic := '0';
  signal t       : natural range 0 to WIN - 1 := 0;
  signal ch      : natural range 0 to DM - 1 := 0;
  signal addr    : natural range 0 to WIN * DM - 1 := 0;
  signal valid   : std_logic_vector(1 to DEPTH) := (others => '0');
  signal first   : std_logic_vector(1 to 2) := (others => '0');
  signal last    : std_logic_vector(1 to DEPTH) := (others => '0');
  signal fin   : std_logic_vector(1 to DEPTH) := (others => '0');
  signal waddr   : natural range 0 to DM - 1 := 0;
  signal x_q     : signed(XB - 1 downto 0) := (others => '0');
  signal acc     : signed(ACC_BITS - 1 downto 0) := (others => '0');
  signal a_mag   : unsigned(ACC_BITS - 1 downto 0) := (others => '0');
  signal neg4, neg5, neg6 : std_logic := '0';
  signal p5      : unsigned(P_BITS - 1 downto 0) := (others => '0');
  signal r6      : unsigned(P_BITS - 1 downto 0) := (others => '0');
  signal y7      : signed(YB - 1 downto 0) := (others => '0');
begin
  src0_rd_addr <= to_unsigned(addr, src0_rd_addr'length);
  wr_en        <= valid(DEPTH) and last(DEPTH);
  wr_addr      <= to_unsigned(waddr, wr_addr'length);
  wr_data      <= y7;

  process (clk)
  begin
    if rising_edge(clk) then
      valid <= running & valid(1 to DEPTH - 1);
      first <= '0' & first(1);
      last  <= '0' & last(1 to DEPTH - 1);
      fin <= '0' & fin(1 to DEPTH - 1);
      if running = '1' and t = 0 then first(1) <= '1'; end if;
      if running = '1' and t = WIN - 1 then
        last(1) <= '1';
        if ch = DM - 1 then fin(1) <= '1'; end if;
      end if;
      x_q <= src0_rd_data;
      if first(2) = '1' then
        acc <= resize(x_q, ACC_BITS);
      else
        acc <= acc + resize(x_q, ACC_BITS);
      end if;
      a_mag <= magnitude(acc);
      neg4  <= acc(ACC_BITS - 1);
      p5    <= a_mag * M0;
      neg5  <= neg4;
      r6    <= round_half_up(p5, SHIFT);
      neg6  <= neg5;
      y7    <= signed_saturate(r6, neg6, YB);
      if valid(DEPTH) = '1' and last(DEPTH) = '1' and waddr /= DM - 1 then
        waddr <= waddr + 1;
      end if;
      done <= valid(DEPTH) and fin(DEPTH);
      if rst = '1' then
        running <= '0'; valid <= (others => '0'); done <= '0';
      elsif running = '0' then
        if start = '1' then
          running <= '1';
          t <= 0; ch <= 0; addr <= 0;
          waddr <= 0;
        end if;
      else
        if t = WIN - 1 then
          t <= 0;
          if ch = DM - 1 then
            running <= '0';
          else
            ch   <= ch + 1;
            addr <= ch + 1;
          end if;
        else
          t    <= t + 1;
          addr <= addr + DM;
        end if;
      end if;
    end if;
  end process;
end architecture;
