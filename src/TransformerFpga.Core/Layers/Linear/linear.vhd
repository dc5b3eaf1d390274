-- TransformerFpga linear layer (LinearLayer.Simulate):
--   y[r, o] = relu?(sat(round((B[o] + sum_i W[o, i] * x[r, i]) * M0 * 2^-SHIFT)))
-- LANES outputs of one row (a group: o = g * LANES + l in lane l, each lane with its own bits of
-- the weight ROM word) accumulate in parallel; one input read per cycle feeds every lane.
-- Groups are pipelined: a group issues its N_IN reads in N_IN cycles and the next group starts
-- T = max(N_IN, LANES) cycles later, while the finished sums of the previous group stream through
-- one shared requantizer (one lane per cycle) to the write port. Outputs are written one per
-- cycle in address order.
-- Every register-to-register path is one short step so that the layer meets 100 MHz:
--   MAC:   read data and weight ROM word registered (x_q, w_q) -> operand registers (for the DSP's A/B inputs,
--          or the first half of the LUT multiplier's adder tree) -> product (MREG, or the second
--          half of the tree) -> product out (PREG) -> accumulator.
--   requantizer: magnitude of the sum -> magnitude * M0 (MREG) -> P register -> rounding
--          -> sign restore, saturation and ReLU.
-- Output buffer banks: with OUT_BANKS > 1 the buffer is column-banked for a reader that takes
-- OUT_BANKS columns per read (attention scores / context lanes): element e goes to bank
-- e mod OUT_BANKS, word e / OUT_BANKS (wr_bank, wr_addr).
-- Cycles from the edge that samples start to the edge after which done is high:
--   (ROWS * N_OUT / LANES - 1) * max(N_IN, LANES) + N_IN + LANES + 11
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
  constant XB      : positive := src0_rd_data'length;
  constant YB      : positive := wr_data'length;
  -- MAC product x * w
  constant MB      : positive := XB + WB;
  constant M_PARTS : positive := mul_tree_parts(WB);
  -- requantizer: |sum| (ACC_BITS bits hold 2^(ACC_BITS-1)) times the positive M0
  constant M0U_BITS : positive := maximum(M0_BITS - 1, 1);
  constant M0U      : unsigned(M0U_BITS - 1 downto 0) := resize(unsigned(M0), M0U_BITS);
  constant QB       : positive := ACC_BITS + M0U_BITS;
  constant Q_TREE   : positive := mul_tree_parts(M0U_BITS + 1);

  -- tfpga:multiplier-begin
  constant LUT_MUL : boolean := false;
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
  type x_lanes_t is array (0 to LANES - 1) of signed(XB - 1 downto 0);
  type w_lanes_t is array (0 to LANES - 1) of signed(WB - 1 downto 0);
  type part_lanes_t is array (0 to LANES - 1) of signed(M_PARTS * MB - 1 downto 0);
  type prod_lanes_t is array (0 to LANES - 1) of signed(MB - 1 downto 0);
  -- flags of one issued read, carried along the MAC pipeline
  type mac_flags_t is record
    valid : std_logic;
    first : std_logic;
    last  : std_logic;
    grp   : natural range 0 to GROUPS - 1;
  end record;
  constant NO_FLAGS : mac_flags_t := ('0', '0', '0', 0);
  -- stage 0: issued; 1: x_q/w_q; 2: operands; 3: product; 4: product out
  type mac_stages_t is array (0 to 4) of mac_flags_t;

  signal state    : state_t := IDLE;
  -- issue side: slot t of the group's period, read index k, group g of row r
  signal t        : natural range 0 to PERIOD := 0;
  signal k        : natural range 0 to N_IN := 0;
  signal g        : natural range 0 to GROUPS := 0;
  signal r        : natural range 0 to ROWS := 0;
  signal src_base : natural range 0 to ROWS * N_IN := 0;
  signal w_base   : natural range 0 to GROUPS * N_IN := 0;
  signal w_addr   : natural range 0 to GROUPS * N_IN := 0;
  -- MAC pipeline
  signal flags    : mac_stages_t := (others => NO_FLAGS);
  signal x_q      : signed(XB - 1 downto 0) := (others => '0');
  signal w_q      : signed(LANES * WB - 1 downto 0) := (others => '0');
  signal op_x     : x_lanes_t := (others => (others => '0'));
  signal op_w     : w_lanes_t := (others => (others => '0'));
  signal parts    : part_lanes_t := (others => (others => '0'));
  signal prod     : prod_lanes_t := (others => (others => '0'));
  signal prod_p   : prod_lanes_t := (others => (others => '0'));
  signal b_q      : signed(LANES * BB - 1 downto 0) := (others => '0');
  signal acc      : acc_lanes_t := (others => (others => '0'));
  -- requantizer stream
  signal ld       : std_logic := '0';
  signal hold     : acc_lanes_t := (others => (others => '0'));
  signal scnt     : natural range 0 to LANES := 0;
  -- stage valid and sign of the requantizer: 1 magnitude, 2 product, 3 P, 4 rounded
  signal q_valid  : std_logic_vector(1 to 4) := (others => '0');
  signal q_neg    : std_logic_vector(1 to 4) := (others => '0');
  signal q_mag    : unsigned(ACC_BITS - 1 downto 0) := (others => '0');
  signal q_parts  : signed(Q_TREE * (QB + 2) - 1 downto 0) := (others => '0');
  signal q_m      : unsigned(QB - 1 downto 0) := (others => '0');
  signal q_p      : unsigned(QB - 1 downto 0) := (others => '0');
  signal q_rnd    : unsigned(QB - 1 downto 0) := (others => '0');
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
    variable issue : mac_flags_t;
  begin
    if rising_edge(clk) then
      done  <= '0';
      issue := NO_FLAGS;
      if state = RUN and t < N_IN then
        issue.valid := '1';
        issue.first := '1' when k = 0 else '0';
        issue.last  := '1' when k = N_IN - 1 else '0';
        issue.grp   := g;
        w_addr <= w_base + k;
      end if;
      flags <= issue & flags(0 to 3);

      -- stage 1: the read data and the weight word of the read issued one cycle ago
      x_q <= src0_rd_data;
      w_q <= WEIGHTS(w_addr);
      -- stage 2: operands (DSP) or the first half of the adder tree (LUT)
      for l in 0 to LANES - 1 loop
        if LUT_MUL then
          parts(l) <= mul_tree_first(x_q, w_q((l + 1) * WB - 1 downto l * WB));
        else
          op_x(l) <= x_q;
          op_w(l) <= w_q((l + 1) * WB - 1 downto l * WB);
        end if;
      end loop;
      -- stage 3: products; stage 4: product out (the DSP's P register), and the bias word the
      -- first product of a group starts from
      for l in 0 to LANES - 1 loop
        if LUT_MUL then
          prod(l) <= mul_tree_second(parts(l), MB);
        else
          prod(l) <= op_x(l) * op_w(l);
        end if;
      end loop;
      prod_p <= prod;
      b_q    <= BIAS(flags(3).grp);
      -- stage 5: accumulate
      ld <= '0';
      if flags(4).valid = '1' then
        for l in 0 to LANES - 1 loop
          if flags(4).first = '1' then
            acc(l) <= resize(b_q((l + 1) * BB - 1 downto l * BB), ACC_BITS) + resize(prod_p(l), ACC_BITS);
          else
            acc(l) <= acc(l) + resize(prod_p(l), ACC_BITS);
          end if;
        end loop;
        ld <= flags(4).last;
      end if;

      -- requantizer: one lane per cycle from the held sums of the last finished group
      -- the magnitude register has no enable: its only load is the multiplier (AREG candidate)
      q_neg(1)   <= hold(0)(ACC_BITS - 1);
      q_mag      <= magnitude(hold(0));
      q_valid(1) <= '0';
      if scnt > 0 then
        q_valid(1) <= '1';
        for l in 0 to LANES - 2 loop
          hold(l) <= hold(l + 1);
        end loop;
        scnt <= scnt - 1;
      end if;
      if ld = '1' then
        hold <= acc;
        scnt <= LANES;
      end if;
      q_valid(2 to 4) <= q_valid(1 to 3);
      q_neg(2 to 4)   <= q_neg(1 to 3);
      if LUT_MUL then
        q_parts <= mul_tree_first(signed('0' & q_mag), signed('0' & M0U));
        q_p     <= unsigned(mul_tree_second(q_parts, QB + 2)(QB - 1 downto 0));
      else
        q_m <= q_mag * M0U;
        q_p <= q_m;
      end if;
      q_rnd <= round_half_up(q_p, SHIFT);
      rv    <= q_valid(4);
      if q_valid(4) = '1' then
        res <= relu(signed_saturate(q_rnd, q_neg(4), YB), RELU_ON);
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
        flags   <= (others => NO_FLAGS);
        ld      <= '0';
        scnt    <= 0;
        q_valid <= (others => '0');
        rv      <= '0';
      end if;
    end if;
  end process;
end architecture;
