-- TransformerFpga residual add (ResidualAddLayer.Simulate):
--   y[i] = sat(round((a[i] * MA + b[i] * MB) * 2^-SHIFT))
-- Streaming: one element per cycle through read, multiply-add, round, write.
-- Cycles: N + 3
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
  constant MA      : signed(M0_BITS - 1 downto 0) := "01000000";
  constant MB      : signed(M0_BITS - 1 downto 0) := "00100000";
  constant S_BITS  : positive := 18;
  constant SHIFT   : natural := 6;
  -- tfpga:constants-end
  constant YB : positive := wr_data'length;

  signal running : std_logic := '0';
  signal i       : natural range 0 to N := 0;
  signal v1, v2, v3, last1, last2, last3 : std_logic := '0';
  signal a1, a2, a3 : natural range 0 to N := 0;
  signal s2      : signed(S_BITS - 1 downto 0) := (others => '0');
  signal y3      : signed(YB - 1 downto 0) := (others => '0');
begin
  src0_rd_addr <= to_unsigned(i, src0_rd_addr'length);
  src1_rd_addr <= to_unsigned(i, src1_rd_addr'length);
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
      v2    <= v1;
      a2    <= a1;
      last2 <= last1;
      if v1 = '1' then
        s2    <= resize(src0_rd_data * MA, S_BITS) + resize(src1_rd_data * MB, S_BITS);
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
