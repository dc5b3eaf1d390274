-- TransformerFpga linear layer (LinearLayer.Simulate):
--   y[r, o] = relu?(sat(round((B[o] + sum_i W[o, i] * x[r, i]) * M0 * 2^-SHIFT)))
-- LANES outputs of one row are computed in parallel, lane l holding outputs o = g * LANES + l in
-- its own weight ROM bank. Per group: N_IN MAC cycles, drain, multiply, round, LANES write cycles.
-- Cycles from the edge that samples start to the edge after which done is high:
--   ROWS * (N_OUT / LANES) * (N_IN + LANES + 3)
library ieee;
use ieee.std_logic_1164.all;
use ieee.numeric_std.all;
use work.tfpga_pkg.all;

entity tfpga_linear is
  port (
    clk          : in  std_logic;
    rst          : in  std_logic;
    start        : in  std_logic;
    done         : out std_logic;
    -- tfpga:ports-begin
    src0_rd_addr : out unsigned(2 downto 0);
    src0_rd_data : in  signed(7 downto 0);
    wr_en        : out std_logic;
    wr_addr      : out unsigned(2 downto 0);
    wr_data      : out signed(7 downto 0)
    -- tfpga:ports-end
  );
end entity;

architecture rtl of tfpga_linear is
  -- tfpga:constants-begin
  constant ROWS     : positive := 2;
  constant N_IN     : positive := 2;
  constant N_OUT    : positive := 4;
  constant LANES    : positive := 2;
  constant WB       : positive := 4;
  constant BB       : positive := 6;
  constant ACC_BITS : positive := 14;
  constant M0_BITS  : positive := 8;
  constant M0       : signed(M0_BITS - 1 downto 0) := "01000000";
  constant SHIFT    : natural := 9;
  constant RELU_ON  : boolean := false;
  -- tfpga:constants-end
  constant GROUPS : positive := N_OUT / LANES;
  constant YB     : positive := wr_data'length;
  constant P_BITS : positive := ACC_BITS + M0_BITS;

  -- One ROM word holds the weights (biases) of all lanes: lane l in bits (l+1)*WB-1 downto l*WB.
  type wrom_t is array (0 to maximum(GROUPS * N_IN, 2) - 1) of signed(LANES * WB - 1 downto 0);
  type brom_t is array (0 to maximum(GROUPS, 2) - 1) of signed(LANES * BB - 1 downto 0);
  -- tfpga:rom-begin
  constant WEIGHTS : wrom_t := (0 => "00010011", 1 => "00101101", 2 => "11110111", 3 => "00001001");
  constant BIAS : brom_t := (0 => "010000000011", 1 => "000000111000");
  -- tfpga:rom-end

  type state_t is (IDLE, MAC, DRAIN, MULT, ROUND, WRITE);
  type acc_lanes_t is array (0 to LANES - 1) of signed(ACC_BITS - 1 downto 0);
  type p_lanes_t is array (0 to LANES - 1) of signed(P_BITS - 1 downto 0);
  type y_lanes_t is array (0 to LANES - 1) of signed(YB - 1 downto 0);

  signal state     : state_t := IDLE;
  signal k         : natural range 0 to N_IN := 0;
  signal g         : natural range 0 to GROUPS := 0;
  signal r         : natural range 0 to ROWS := 0;
  signal lane      : natural range 0 to LANES := 0;
  signal src_base  : natural range 0 to ROWS * N_IN := 0;
  signal w_base    : natural range 0 to GROUPS * N_IN := 0;
  signal dst_base  : natural range 0 to ROWS * N_OUT := 0;
  signal mac_valid : std_logic := '0';
  signal w_q       : signed(LANES * WB - 1 downto 0) := (others => '0');
  signal acc       : acc_lanes_t := (others => (others => '0'));
  signal prod      : p_lanes_t := (others => (others => '0'));
  signal res       : y_lanes_t := (others => (others => '0'));
begin
  src0_rd_addr <= to_unsigned(src_base + k, src0_rd_addr'length);
  wr_en        <= '1' when state = WRITE else '0';
  wr_addr      <= to_unsigned(dst_base + lane, wr_addr'length);
  wr_data      <= res(0);

  process (clk)
  begin
    if rising_edge(clk) then
      done      <= '0';
      mac_valid <= '0';
      if state = MAC then
        w_q <= WEIGHTS(w_base + k);
      end if;
      if mac_valid = '1' then
        for l in 0 to LANES - 1 loop
          acc(l) <= acc(l) + resize(w_q((l + 1) * WB - 1 downto l * WB) * src0_rd_data, ACC_BITS);
        end loop;
      end if;
      if rst = '1' then
        state <= IDLE;
      else
        case state is
          when IDLE =>
            if start = '1' then
              k <= 0; g <= 0; r <= 0; lane <= 0;
              src_base <= 0; w_base <= 0; dst_base <= 0;
              for l in 0 to LANES - 1 loop
                acc(l) <= resize(BIAS(0)((l + 1) * BB - 1 downto l * BB), ACC_BITS);
              end loop;
              state <= MAC;
            end if;
          when MAC =>
            mac_valid <= '1';
            if k = N_IN - 1 then
              state <= DRAIN;
            else
              k <= k + 1;
            end if;
          when DRAIN =>
            state <= MULT;
          when MULT =>
            for l in 0 to LANES - 1 loop
              prod(l) <= acc(l) * M0;
            end loop;
            state <= ROUND;
          when ROUND =>
            for l in 0 to LANES - 1 loop
              res(l) <= relu(saturate(round_shift(prod(l), SHIFT), YB), RELU_ON);
            end loop;
            lane  <= 0;
            state <= WRITE;
          when WRITE =>
            if lane = LANES - 1 then
              k    <= 0;
              lane <= 0;
              if g = GROUPS - 1 and r = ROWS - 1 then
                done  <= '1';
                state <= IDLE;
              else
                if g = GROUPS - 1 then
                  g <= 0; w_base <= 0;
                  r <= r + 1; src_base <= src_base + N_IN;
                  for l in 0 to LANES - 1 loop
                    acc(l) <= resize(BIAS(0)((l + 1) * BB - 1 downto l * BB), ACC_BITS);
                  end loop;
                else
                  g <= g + 1; w_base <= w_base + N_IN;
                  for l in 0 to LANES - 1 loop
                    acc(l) <= resize(BIAS(g + 1)((l + 1) * BB - 1 downto l * BB), ACC_BITS);
                  end loop;
                end if;
                dst_base <= dst_base + LANES;
                state <= MAC;
              end if;
            else
              lane <= lane + 1;
            end if;
            -- the next lane's result moves to the write port
            for l in 0 to LANES - 2 loop
              res(l) <= res(l + 1);
            end loop;
        end case;
      end if;
    end if;
  end process;
end architecture;
