-- TransformerFpga attention context (ContextLayer.Simulate):
--   y[i, h*DH + c] = sat(round((sum_j p[h, i, j] * v[j, h*DH + c]) * M0 * 2^-SHIFT))
-- One MAC; per output: WIN MAC cycles, drain, multiply, round, write.
-- Cycles: WIN * DM * (WIN + 4)
library ieee;
use ieee.std_logic_1164.all;
use ieee.numeric_std.all;
use work.tfpga_pkg.all;

entity tfpga_context is
  port (
    clk          : in  std_logic;
    rst          : in  std_logic;
    start        : in  std_logic;
    done         : out std_logic;
    -- tfpga:ports-begin
    src0_rd_addr : out unsigned(2 downto 0);
    src0_rd_data : in  signed(7 downto 0);
    src1_rd_addr : out unsigned(2 downto 0);
    src1_rd_data : in  signed(7 downto 0);
    wr_en        : out std_logic;
    wr_addr      : out unsigned(2 downto 0);
    wr_data      : out signed(7 downto 0)
    -- tfpga:ports-end
  );
end entity;

architecture rtl of tfpga_context is
  -- tfpga:constants-begin
  constant HEADS    : positive := 2;
  constant WIN      : positive := 2;
  constant DM       : positive := 4;
  constant DH       : positive := 2;
  constant ACC_BITS : positive := 18;
  constant M0_BITS  : positive := 8;
  constant M0       : signed(M0_BITS - 1 downto 0) := "01000000";
  constant SHIFT    : natural := 9;
  -- tfpga:constants-end
  constant YB     : positive := wr_data'length;
  constant P_BITS : positive := ACC_BITS + M0_BITS;

  type state_t is (IDLE, MAC, DRAIN, MULT, ROUND, WRITE);
  signal state     : state_t := IDLE;
  signal j         : natural range 0 to WIN := 0;
  signal voff      : natural range 0 to WIN * DM := 0;
  signal ch        : natural range 0 to DM := 0;
  signal cc        : natural range 0 to DH := 0;
  signal ibase     : natural range 0 to WIN * WIN := 0;
  signal pbase     : natural range 0 to HEADS * WIN * WIN := 0;
  signal out_idx   : natural range 0 to WIN * DM := 0;
  signal mac_valid : std_logic := '0';
  signal acc       : signed(ACC_BITS - 1 downto 0) := (others => '0');
  signal prod      : signed(P_BITS - 1 downto 0) := (others => '0');
  signal res       : signed(YB - 1 downto 0) := (others => '0');
begin
  src0_rd_addr <= to_unsigned(pbase + j, src0_rd_addr'length);
  src1_rd_addr <= to_unsigned(voff + ch, src1_rd_addr'length);
  wr_en        <= '1' when state = WRITE else '0';
  wr_addr      <= to_unsigned(out_idx, wr_addr'length);
  wr_data      <= res;

  process (clk)
  begin
    if rising_edge(clk) then
      done      <= '0';
      mac_valid <= '0';
      if mac_valid = '1' then
        acc <= acc + resize(src0_rd_data * src1_rd_data, ACC_BITS);
      end if;
      if rst = '1' then
        state <= IDLE;
      else
        case state is
          when IDLE =>
            if start = '1' then
              j <= 0; voff <= 0; ch <= 0; cc <= 0; ibase <= 0; pbase <= 0; out_idx <= 0;
              acc <= (others => '0');
              state <= MAC;
            end if;
          when MAC =>
            mac_valid <= '1';
            if j = WIN - 1 then
              state <= DRAIN;
            else
              j <= j + 1; voff <= voff + DM;
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
            j <= 0; voff <= 0;
            acc <= (others => '0');
            if out_idx = WIN * DM - 1 then
              done  <= '1';
              state <= IDLE;
            else
              out_idx <= out_idx + 1;
              if ch /= DM - 1 then
                ch <= ch + 1;
                if cc = DH - 1 then
                  cc <= 0; pbase <= pbase + WIN * WIN;
                else
                  cc <= cc + 1;
                end if;
              else
                ch <= 0; cc <= 0;
                ibase <= ibase + WIN; pbase <= ibase + WIN;
              end if;
              state <= MAC;
            end if;
        end case;
      end if;
    end if;
  end process;
end architecture;
