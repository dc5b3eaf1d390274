-- TransformerFpga global average pooling (AveragePoolLayer.Simulate):
--   y[c] = sat(round((sum_t x[t, c]) * M0 * 2^-SHIFT)), 1/WIN folded into M0.
-- One adder; per output: WIN accumulate cycles, drain, multiply, round, write.
-- Cycles: DM * (WIN + 4)
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
  constant M0       : signed(M0_BITS - 1 downto 0) := "01000000";
  constant SHIFT    : natural := 7;
  -- tfpga:constants-end
  constant YB     : positive := wr_data'length;
  constant P_BITS : positive := ACC_BITS + M0_BITS;

  type state_t is (IDLE, MAC, DRAIN, MULT, ROUND, WRITE);
  signal state     : state_t := IDLE;
  signal t         : natural range 0 to WIN := 0;
  signal toff      : natural range 0 to WIN * DM := 0;
  signal ch        : natural range 0 to DM := 0;
  signal mac_valid : std_logic := '0';
  signal acc       : signed(ACC_BITS - 1 downto 0) := (others => '0');
  signal prod      : signed(P_BITS - 1 downto 0) := (others => '0');
  signal res       : signed(YB - 1 downto 0) := (others => '0');
begin
  src0_rd_addr <= to_unsigned(toff + ch, src0_rd_addr'length);
  wr_en        <= '1' when state = WRITE else '0';
  wr_addr      <= to_unsigned(ch, wr_addr'length);
  wr_data      <= res;

  process (clk)
  begin
    if rising_edge(clk) then
      done      <= '0';
      mac_valid <= '0';
      if mac_valid = '1' then
        acc <= acc + resize(src0_rd_data, ACC_BITS);
      end if;
      if rst = '1' then
        state <= IDLE;
      else
        case state is
          when IDLE =>
            if start = '1' then
              t <= 0; toff <= 0; ch <= 0;
              acc <= (others => '0');
              state <= MAC;
            end if;
          when MAC =>
            mac_valid <= '1';
            if t = WIN - 1 then
              state <= DRAIN;
            else
              t <= t + 1; toff <= toff + DM;
            end if;
          when DRAIN =>
            state <= MULT;
          when MULT =>
            prod  <= acc * M0;
            state <= ROUND;
          when ROUND =>
            res   <= saturate(round_shift(prod, SHIFT), YB);
            state <= WRITE;
          when WRITE =>
            t <= 0; toff <= 0;
            acc <= (others => '0');
            if ch = DM - 1 then
              done  <= '1';
              state <= IDLE;
            else
              ch    <= ch + 1;
              state <= MAC;
            end if;
        end case;
      end if;
    end if;
  end process;
end architecture;
