-- TransformerFpga linear layer (LinearLayer.Simulate):
--   y[r, o] = relu?(sat(round((B[o] + sum_i W[o, i] * x[r, i]) * M0 * 2^-SHIFT)))
-- LANES outputs of one row (a group: o = g * LANES + l in lane l, each lane with its own bits of
-- the weight ROM word) accumulate in parallel; one input read per cycle feeds every lane.
-- Groups are pipelined: a group issues its N_IN reads in N_IN cycles and the next group starts
-- T = max(N_IN, LANES) cycles later, while the finished sums of the previous group stream through
-- one shared requantizer (multiply by M0, round and saturate: one lane per cycle) to the write
-- port. Outputs are written one per cycle in address order.
-- Output buffer banks: with OUT_BANKS > 1 the buffer is column-banked for a reader that takes
-- OUT_BANKS columns per read (attention scores / context lanes): element e goes to bank
-- e mod OUT_BANKS, word e / OUT_BANKS (wr_bank, wr_addr).
-- Cycles from the edge that samples start to the edge after which done is high:
--   (ROWS * N_OUT / LANES - 1) * max(N_IN, LANES) + N_IN + LANES + 4
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
    wr_bank      : out unsigned(0 downto 0);
    wr_addr      : out unsigned(2 downto 0);
    wr_data      : out signed(7 downto 0)
    -- tfpga:ports-end
  );
  -- tfpga:entity-attributes-begin
  -- tfpga:entity-attributes-end
end entity;

architecture rtl of tfpga_linear is
  -- tfpga:constants-begin
  constant ROWS      : positive := 2;
  constant N_IN      : positive := 2;
  constant N_OUT     : positive := 4;
  constant LANES     : positive := 2;
  constant OUT_BANKS : positive := 1;
  constant WB        : positive := 4;
  constant BB        : positive := 6;
  constant ACC_BITS  : positive := 14;
  constant M0_BITS   : positive := 8;
  constant M0        : signed(M0_BITS - 1 downto 0) := "01000000";
  constant SHIFT     : natural := 9;
  constant RELU_ON   : boolean := false;
  -- tfpga:constants-end
  constant GROUPS  : positive := N_OUT / LANES;
  constant PERIOD  : positive := maximum(N_IN, LANES);
  constant N_WRITE : positive := ROWS * N_OUT;
  constant YB      : positive := wr_data'length;
  constant P_BITS  : positive := ACC_BITS + M0_BITS;

  -- tfpga:multiplier-begin
  function mac_mul(a : signed; b : signed) return signed is
  begin
    return a * b;
  end function;
  -- tfpga:multiplier-end

  -- One ROM word holds the weights (biases) of all lanes: lane l in bits (l+1)*WB-1 downto l*WB.
  type wrom_t is array (0 to maximum(GROUPS * N_IN, 2) - 1) of signed(LANES * WB - 1 downto 0);
  type brom_t is array (0 to maximum(GROUPS, 2) - 1) of signed(LANES * BB - 1 downto 0);
  -- tfpga:rom-begin
  constant WEIGHTS : wrom_t := (0 => "00010011", 1 => "00101101", 2 => "11110111", 3 => "00001001");
  constant BIAS : brom_t := (0 => "010000000011", 1 => "000000111000");
  -- tfpga:rom-end

  type state_t is (IDLE, RUN, FLUSH);
  type acc_lanes_t is array (0 to LANES - 1) of signed(ACC_BITS - 1 downto 0);

  signal state    : state_t := IDLE;
  -- issue side: slot t of the group's period, read index k, group g of row r
  signal t        : natural range 0 to PERIOD := 0;
  signal k        : natural range 0 to N_IN := 0;
  signal g        : natural range 0 to GROUPS := 0;
  signal r        : natural range 0 to ROWS := 0;
  signal src_base : natural range 0 to ROWS * N_IN := 0;
  signal w_base   : natural range 0 to GROUPS * N_IN := 0;
  -- MAC stage
  signal issue_v  : std_logic := '0';
  signal first_v  : std_logic := '0';
  signal last_v   : std_logic := '0';
  signal w_q      : signed(LANES * WB - 1 downto 0) := (others => '0');
  signal b_q      : signed(LANES * BB - 1 downto 0) := (others => '0');
  signal acc      : acc_lanes_t := (others => (others => '0'));
  -- requantizer stream
  signal ld       : std_logic := '0';
  signal hold     : acc_lanes_t := (others => (others => '0'));
  signal scnt     : natural range 0 to LANES := 0;
  signal pv       : std_logic := '0';
  signal prod     : signed(P_BITS - 1 downto 0) := (others => '0');
  signal rv       : std_logic := '0';
  signal res      : signed(YB - 1 downto 0) := (others => '0');
  -- write side
  signal wcount   : natural range 0 to N_WRITE := 0;
  signal wbank    : natural range 0 to OUT_BANKS := 0;
  signal wword    : natural range 0 to N_WRITE / OUT_BANKS := 0;
begin
  src0_rd_addr <= to_unsigned(src_base + k, src0_rd_addr'length);
  wr_en        <= rv;
  wr_bank      <= to_unsigned(wbank, wr_bank'length);
  wr_addr      <= to_unsigned(wword, wr_addr'length);
  wr_data      <= res;

  process (clk)
    variable issuing : boolean;
  begin
    if rising_edge(clk) then
      done    <= '0';
      issuing := state = RUN and t < N_IN;
      issue_v <= '0';
      if issuing then
        issue_v <= '1';
        w_q     <= WEIGHTS(w_base + k);
        b_q     <= BIAS(g);
        first_v <= '1' when k = 0 else '0';
        last_v  <= '1' when k = N_IN - 1 else '0';
      end if;

      -- MAC: the read data of the previous cycle's issue is valid now
      ld <= '0';
      if issue_v = '1' then
        for l in 0 to LANES - 1 loop
          if first_v = '1' then
            acc(l) <= resize(b_q((l + 1) * BB - 1 downto l * BB), ACC_BITS)
                      + resize(mac_mul(w_q((l + 1) * WB - 1 downto l * WB), src0_rd_data), ACC_BITS);
          else
            acc(l) <= acc(l) + resize(mac_mul(w_q((l + 1) * WB - 1 downto l * WB), src0_rd_data), ACC_BITS);
          end if;
        end loop;
        ld <= last_v;
      end if;

      -- requantizer: one lane per cycle from the held sums of the last finished group
      pv <= '0';
      if scnt > 0 then
        prod <= mac_mul(hold(0), M0);
        pv   <= '1';
        for l in 0 to LANES - 2 loop
          hold(l) <= hold(l + 1);
        end loop;
        scnt <= scnt - 1;
      end if;
      if ld = '1' then
        hold <= acc;
        scnt <= LANES;
      end if;
      rv <= pv;
      if pv = '1' then
        res <= relu(saturate(round_shift(prod, SHIFT), YB), RELU_ON);
      end if;

      -- write: res is written at this edge when rv is high
      if rv = '1' then
        if wbank = OUT_BANKS - 1 then
          wbank <= 0;
          if wword /= N_WRITE / OUT_BANKS - 1 then
            wword <= wword + 1;
          end if;
        else
          wbank <= wbank + 1;
        end if;
        if wcount = N_WRITE - 1 then
          done  <= '1';
          state <= IDLE;
        else
          wcount <= wcount + 1;
        end if;
      end if;

      case state is
        when IDLE =>
          if start = '1' then
            t <= 0; k <= 0; g <= 0; r <= 0; src_base <= 0; w_base <= 0;
            wcount <= 0; wbank <= 0; wword <= 0;
            state <= RUN;
          end if;
        when RUN =>
          if k /= N_IN - 1 and t < N_IN then
            k <= k + 1;
          end if;
          if g = GROUPS - 1 and r = ROWS - 1 and t = N_IN - 1 then
            state <= FLUSH;
          elsif t = PERIOD - 1 then
            t <= 0; k <= 0;
            if g = GROUPS - 1 then
              g <= 0; w_base <= 0;
              r <= r + 1; src_base <= src_base + N_IN;
            else
              g <= g + 1; w_base <= w_base + N_IN;
            end if;
          else
            t <= t + 1;
          end if;
        when FLUSH =>
          null;
      end case;

      if rst = '1' then
        state   <= IDLE;
        issue_v <= '0';
        ld      <= '0';
        scnt    <= 0;
        pv      <= '0';
        rv      <= '0';
      end if;
    end if;
  end process;
end architecture;
