-- TransformerFpga MAC engine (FpgaArchitecture = Engine): one array of LANES multipliers and one
-- requantizer, shared by the linear, attention-score and attention-context layers that the sequencer
-- runs one after another. Each such layer is a job of the descriptor table below (J_* constants,
-- chosen by the sequencer's step):
--   out[h, r, n] = relu?(sat(round((bias[n] + sum_k a[h, r, k] * b[h, n, k]) * M0 * 2^-SHIFT)))
-- for h < H, r < R, n < N and k < J * LANES (the table holds H - 1, R - 1, N - 1, J - 1).
-- One read of each operand per cycle gives LANES consecutive k: a from the step's first source (a buffer of LANES column banks, word
-- h * A_H + r * A_R + j), b from the job's words of the weight ROM (linear) or from the step's second
-- source (scores: K; context: V, written transposed), word B_BASE + h * B_H + n * B_N + j. The LANES
-- products (lanes from DSP_LANES on in LUTs) are summed by a registered tree (four per stage) into one accumulator: one output every J
-- cycles, one requantization per cycle at most. Output n of row r of head h is element
-- h * E_H + r * E_R + n * E_N of the job's output buffer (the top splits it into bank and word).
-- Every register-to-register path is one short step so that the engine meets 100 MHz: read address
-- registers and the registered weight ROM read -> a_q / b_q -> operands (DSP A/B, or the first half of
-- the LUT multiplier's tree) -> products (MREG, or the second half) -> products out (PREG) ->
-- TREE_STAGES sums -> accumulator -> magnitude -> magnitude * M0 (MREG) -> P -> + half -> shift ->
-- clamp (to 2^(Y-1) - 1 = J_LIMIT, or 2^(Y-1) when negative, for Y output bits) -> sign and ReLU -> write.
-- Cycles from the edge that samples start to the edge after which done is high:
--   H * R * N * J + 14 + TREE_STAGES (one of them loads the job's descriptor)
library ieee;
use ieee.std_logic_1164.all;
use ieee.numeric_std.all;
use work.tfpga_pkg.all;

entity tfpga_engine is
  port (
    clk       : in  std_logic;
    rst       : in  std_logic;
    start     : in  std_logic;
    done      : out std_logic;
    -- tfpga:ports-begin
    step      : in  unsigned(3 downto 0);
    a_rd_addr : out unsigned(3 downto 0);
    a_rd_data : in  signed(15 downto 0);
    b_rd_addr : out unsigned(3 downto 0);
    b_rd_data : in  signed(15 downto 0);
    wr_en     : out std_logic;
    wr_addr   : out unsigned(3 downto 0);
    wr_data   : out signed(7 downto 0)
    -- tfpga:ports-end
  );
  -- tfpga:entity-attributes-begin
  -- tfpga:entity-attributes-end
end entity;

architecture rtl of tfpga_engine is
  -- tfpga:constants-begin
  constant LANES       : positive := 2;
  constant DSP_LANES   : natural := 2;
  constant ACC_BITS    : positive := 20;
  constant BIAS_BITS   : positive := 8;
  constant M0_BITS     : positive := 8;
  constant COUNT_MAX   : positive := 4;
  constant W_DEPTH     : positive := 2;
  constant B_DEPTH     : positive := 2;
  constant N_JOBS      : positive := 1;
  constant JOB_OF_STEP : integer_vector := (0 => 0);
  constant J_H         : integer_vector := (0 => 0);
  constant J_R         : integer_vector := (0 => 1);
  constant J_N         : integer_vector := (0 => 1);
  constant J_J         : integer_vector := (0 => 0);
  constant J_A_H       : integer_vector := (0 => 0);
  constant J_A_R       : integer_vector := (0 => 1);
  constant J_B_ROM     : integer_vector := (0 => 1);
  constant J_B_BASE    : integer_vector := (0 => 0);
  constant J_B_H       : integer_vector := (0 => 0);
  constant J_B_N       : integer_vector := (0 => 1);
  constant J_E_H       : integer_vector := (0 => 0);
  constant J_E_R       : integer_vector := (0 => 2);
  constant J_E_N       : integer_vector := (0 => 1);
  constant J_BIAS_ON   : integer_vector := (0 => 1);
  constant J_BIAS      : integer_vector := (0 => 0);
  constant J_M0        : integer_vector := (0 => 64);
  constant J_SHIFT     : integer_vector := (0 => 9);
  constant J_HALF      : integer_vector := (0 => 8);
  constant J_LIMIT     : integer_vector := (0 => 127);
  constant J_LIMIT_NEG : integer_vector := (0 => 128);
  constant J_RELU      : integer_vector := (0 => 0);
  -- tfpga:constants-end
  constant AB      : positive := a_rd_data'length / LANES;
  constant BB      : positive := b_rd_data'length / LANES;
  constant YB      : positive := wr_data'length;
  constant A_MAX   : natural := 2 ** a_rd_addr'length - 1;
  constant B_MAX   : natural := 2 ** b_rd_addr'length - 1;
  constant E_MAX   : natural := 2 ** wr_addr'length - 1;
  -- MAC product a * b
  constant MB      : positive := AB + BB;
  constant M_PARTS : positive := mul_tree_parts(BB);
  -- registered stages of the sum over the lanes (tfpga_pkg)
  constant TREE_STAGES : natural := sum_stages(LANES);
  -- MAC stages: 0 issued, 1 read data, 2 operands, 3 products, 4 products out, 5 .. 4 + TREE_STAGES sums
  constant MAC_LAST : positive := 4 + TREE_STAGES;
  -- requantizer: |sum| (ACC_BITS bits hold 2^(ACC_BITS-1)) times the job's positive M0
  constant QB      : positive := ACC_BITS + M0_BITS;
  constant Q_TREE  : positive := mul_tree_parts(M0_BITS + 1);

  -- tfpga:multiplier-begin
  constant LUT_MUL : boolean := false;
  -- tfpga:multiplier-end

  -- One weight ROM word holds LANES consecutive weights of one output, lane l in bits (l+1)*BB-1 downto l*BB.
  type wrom_t is array (0 to W_DEPTH - 1) of signed(LANES * BB - 1 downto 0);
  type brom_t is array (0 to B_DEPTH - 1) of signed(BIAS_BITS - 1 downto 0);
  -- tfpga:rom-begin
  constant WEIGHTS : wrom_t := (0 => "0001001100101101", 1 => "1111011100001001");
  constant BIAS : brom_t := (0 => "00000011", 1 => "00111000");
  -- tfpga:rom-end

  subtype count_t is natural range 0 to COUNT_MAX;
  subtype a_word_t is natural range 0 to A_MAX;
  subtype b_word_t is natural range 0 to B_MAX;
  subtype element_t is natural range 0 to E_MAX;
  type state_t is (IDLE, LOAD, RUN, FLUSH);
  type a_lanes_t is array (0 to LANES - 1) of signed(AB - 1 downto 0);
  type b_lanes_t is array (0 to LANES - 1) of signed(BB - 1 downto 0);
  type part_lanes_t is array (0 to LANES - 1) of signed(M_PARTS * MB - 1 downto 0);
  type prod_lanes_t is array (0 to LANES - 1) of signed(MB - 1 downto 0);
  type acc_lanes_t is array (0 to LANES - 1) of signed(ACC_BITS - 1 downto 0);
  type sum_stages_t is array (1 to maximum(TREE_STAGES, 1)) of acc_lanes_t;
  -- flags of one issued read, carried along the MAC pipeline
  type mac_flags_t is record
    valid : std_logic;
    first : std_logic;
    last  : std_logic;
    bidx  : natural range 0 to BIAS'high;
  end record;
  constant NO_FLAGS : mac_flags_t := ('0', '0', '0', 0);
  type mac_stages_t is array (0 to MAC_LAST) of mac_flags_t;

  signal state    : state_t := IDLE;
  signal job      : natural range 0 to N_JOBS - 1 := 0;
  -- the running job's descriptor (counts minus one), latched at start
  signal c_h, c_r, c_n, c_j : count_t := 0;
  signal c_a_h, c_a_r       : a_word_t := 0;
  signal c_b_h, c_b_n       : b_word_t := 0;
  signal c_e_h, c_e_r, c_e_n : element_t := 0;
  signal c_b_rom  : std_logic := '0';
  signal c_bias   : std_logic := '0';
  signal c_relu   : std_logic := '0';
  signal c_m0     : unsigned(M0_BITS - 1 downto 0) := (others => '0');
  signal c_shift  : natural range 0 to QB + 1 := 0;
  -- c_half: 2^(SHIFT-1), the rounding bit (J_HALF = SHIFT - 1, or -1 for no shift or one past the width)
  signal c_half   : unsigned(QB downto 0) := (others => '0');
  -- the job's largest magnitude: index 0 positive (2^(Y-1) - 1), 1 negative (2^(Y-1))
  type limits_t is array (0 to 1) of unsigned(YB - 1 downto 0);
  signal c_limit  : limits_t := (others => (others => '0'));
  signal c_bias0  : natural range 0 to BIAS'high := 0;
  -- issue side: k word j of output n of row r of head h
  signal h, r, n, j : count_t := 0;
  signal a_head, a_row, a_addr : a_word_t := 0;
  signal b_head, b_row, b_addr : b_word_t := 0;
  signal bidx     : natural range 0 to BIAS'high := 0;
  -- MAC pipeline
  signal flags    : mac_stages_t := (others => NO_FLAGS);
  signal w_rom_q  : signed(LANES * BB - 1 downto 0) := (others => '0');
  signal a_q      : signed(LANES * AB - 1 downto 0) := (others => '0');
  signal b_q      : signed(LANES * BB - 1 downto 0) := (others => '0');
  signal op_a     : a_lanes_t := (others => (others => '0'));
  signal op_b     : b_lanes_t := (others => (others => '0'));
  signal parts    : part_lanes_t := (others => (others => '0'));
  signal prod     : prod_lanes_t := (others => (others => '0'));
  signal prod_p   : prod_lanes_t := (others => (others => '0'));
  signal sums     : sum_stages_t := (others => (others => (others => '0')));
  signal bias_q   : signed(BIAS_BITS - 1 downto 0) := (others => '0');
  signal acc      : signed(ACC_BITS - 1 downto 0) := (others => '0');
  signal ld       : std_logic := '0';
  -- requantizer stages: 1 magnitude, 2 product, 3 P, 4 + half, 5 shifted, 6 clamped
  signal q_valid  : std_logic_vector(1 to 6) := (others => '0');
  signal q_neg    : std_logic_vector(1 to 6) := (others => '0');
  signal q_mag    : unsigned(ACC_BITS - 1 downto 0) := (others => '0');
  signal q_parts  : signed(Q_TREE * (QB + 2) - 1 downto 0) := (others => '0');
  signal q_m      : unsigned(QB - 1 downto 0) := (others => '0');
  signal q_p      : unsigned(QB - 1 downto 0) := (others => '0');
  signal q_half   : unsigned(QB downto 0) := (others => '0');
  signal q_sh     : unsigned(QB downto 0) := (others => '0');
  signal q_clamp  : unsigned(YB - 1 downto 0) := (others => '0');
  signal rv       : std_logic := '0';
  signal res      : signed(YB - 1 downto 0) := (others => '0');
  -- write side: output n of row r of head h at element w_e
  signal wh, wr, wn : count_t := 0;
  signal w_head, w_row, w_e : element_t := 0;
begin
  a_rd_addr <= to_unsigned(a_addr, a_rd_addr'length);
  b_rd_addr <= to_unsigned(b_addr, b_rd_addr'length);
  wr_en     <= rv;
  wr_addr   <= to_unsigned(w_e, wr_addr'length);
  wr_data   <= res;

  process (clk)
    variable issue : mac_flags_t;
    variable total : signed(ACC_BITS - 1 downto 0);
    variable count : positive;
    variable limit : unsigned(YB - 1 downto 0);
    variable neg   : signed(YB downto 0);
  begin
    if rising_edge(clk) then
      done  <= '0';
      issue := NO_FLAGS;
      if state = RUN then
        issue.valid := '1';
        issue.first := '1' when j = 0 else '0';
        issue.last  := '1' when j = c_j else '0';
        issue.bidx  := bidx;
      end if;
      flags <= issue & flags(0 to MAC_LAST - 1);

      -- stage 1: the read data and the weight word of the read issued one cycle ago (the ROM's
      -- output register is w_rom_q)
      if b_addr <= WEIGHTS'high then
        w_rom_q <= WEIGHTS(b_addr);
      end if;
      a_q <= a_rd_data;
      b_q <= w_rom_q when c_b_rom = '1' else b_rd_data;
      -- stage 2: operands (DSP) or the first half of the adder tree (LUT); stage 3: products
      for l in 0 to LANES - 1 loop
        if LUT_MUL or l >= DSP_LANES then
          parts(l) <= mul_tree_first(a_q((l + 1) * AB - 1 downto l * AB), b_q((l + 1) * BB - 1 downto l * BB));
          prod(l)  <= mul_tree_second(parts(l), MB);
        else
          op_a(l) <= a_q((l + 1) * AB - 1 downto l * AB);
          op_b(l) <= b_q((l + 1) * BB - 1 downto l * BB);
          prod(l) <= op_a(l) * op_b(l);
        end if;
      end loop;
      -- stage 4: products out (the DSP's P register); stages 5 ..: sums of four
      prod_p <= prod;
      count := LANES;
      for st in 1 to TREE_STAGES loop
        for o in 0 to LANES - 1 loop
          total := (others => '0');
          for e in 4 * o to 4 * o + 3 loop
            if e < count then
              if st = 1 then
                total := total + resize(prod_p(e), ACC_BITS);
              else
                total := total + sums(st - 1)(e);
              end if;
            end if;
          end loop;
          -- slots past the stage's count hold 0 (every slot is assigned: no undriven bits in synthesis)
          sums(st)(o) <= total;
        end loop;
        count := (count + 3) / 4;
      end loop;
      if TREE_STAGES = 0 then
        total := resize(prod_p(0), ACC_BITS);
      else
        total := sums(maximum(TREE_STAGES, 1))(0);
      end if;
      -- the bias the first sum of an output starts from, read one stage ahead
      bias_q <= BIAS(flags(MAC_LAST - 1).bidx);
      -- accumulate
      ld <= '0';
      if flags(MAC_LAST).valid = '1' then
        if flags(MAC_LAST).first = '1' then
          if c_bias = '1' then
            acc <= resize(bias_q, ACC_BITS) + total;
          else
            acc <= total;
          end if;
        else
          acc <= acc + total;
        end if;
        ld <= flags(MAC_LAST).last;
      end if;

      -- requantizer: one finished sum per cycle at most
      -- the magnitude register has no enable: its only load is the multiplier (AREG candidate)
      q_valid(1) <= ld;
      q_neg(1)   <= acc(ACC_BITS - 1);
      q_mag      <= magnitude(acc);
      q_valid(2 to 6) <= q_valid(1 to 5);
      q_neg(2 to 6)   <= q_neg(1 to 5);
      if LUT_MUL then
        q_parts <= mul_tree_first(signed('0' & q_mag), signed('0' & c_m0));
        q_p     <= unsigned(mul_tree_second(q_parts, QB + 2)(QB - 1 downto 0));
      else
        q_m <= q_mag * c_m0;
        q_p <= q_m;
      end if;
      q_half <= resize(q_p, QB + 1) + c_half;
      q_sh   <= shift_right(q_half, c_shift);
      -- clamp the magnitude to the job's range: 2^(Y-1) when negative, 2^(Y-1) - 1 otherwise
      limit := c_limit(1) when q_neg(5) = '1' else c_limit(0);
      if q_sh > resize(limit, QB + 1) then
        q_clamp <= limit;
      else
        q_clamp <= q_sh(YB - 1 downto 0);
      end if;
      -- restore the sign (ReLU: negative results are 0)
      rv <= q_valid(6);
      if q_valid(6) = '1' then
        if q_neg(6) = '0' then
          res <= signed(q_clamp);
        elsif c_relu = '1' then
          res <= (others => '0');
        else
          neg := -signed(resize(q_clamp, YB + 1));
          res <= neg(YB - 1 downto 0);
        end if;
      end if;

      -- write: res is written at this edge when rv is high
      if rv = '1' then
        if wn /= c_n then
          wn <= wn + 1; w_e <= w_e + c_e_n;
        elsif wr /= c_r then
          wn <= 0; wr <= wr + 1; w_row <= w_row + c_e_r; w_e <= w_row + c_e_r;
        elsif wh /= c_h then
          wn <= 0; wr <= 0; wh <= wh + 1;
          w_head <= w_head + c_e_h; w_row <= w_head + c_e_h; w_e <= w_head + c_e_h;
        else
          done  <= '1';
          state <= IDLE;
        end if;
      end if;

      case state is
        when IDLE =>
          -- the step's job, registered: its descriptor is loaded from the register in LOAD
          if start = '1' then
            job <= JOB_OF_STEP(to_integer(step));
            h <= 0; r <= 0; n <= 0; j <= 0;
            a_head <= 0; a_row <= 0; a_addr <= 0;
            wh <= 0; wr <= 0; wn <= 0; w_head <= 0; w_row <= 0; w_e <= 0;
            state <= LOAD;
          end if;
        when LOAD =>
          -- every field is a table lookup: the generator stores counts minus one, the clamped shift, the rounding
          -- bit and both limits, so that no arithmetic follows the lookup
          c_h <= J_H(job); c_r <= J_R(job); c_n <= J_N(job); c_j <= J_J(job);
          c_a_h <= J_A_H(job); c_a_r <= J_A_R(job);
          c_b_h <= J_B_H(job); c_b_n <= J_B_N(job);
          c_e_h <= J_E_H(job); c_e_r <= J_E_R(job); c_e_n <= J_E_N(job);
          c_b_rom <= '1' when J_B_ROM(job) = 1 else '0';
          c_bias  <= '1' when J_BIAS_ON(job) = 1 else '0';
          c_bias0 <= J_BIAS(job);
          c_relu  <= '1' when J_RELU(job) = 1 else '0';
          c_m0    <= to_unsigned(J_M0(job), M0_BITS);
          c_shift <= J_SHIFT(job);
          for b in 0 to QB loop
            c_half(b) <= '1' when J_HALF(job) = b else '0';
          end loop;
          c_limit <= (to_unsigned(J_LIMIT(job), YB), to_unsigned(J_LIMIT_NEG(job), YB));
          b_head <= J_B_BASE(job); b_row <= J_B_BASE(job); b_addr <= J_B_BASE(job);
          bidx <= J_BIAS(job);
          state <= RUN;
        when RUN =>
          if j /= c_j then
            j <= j + 1; a_addr <= a_addr + 1; b_addr <= b_addr + 1;
          elsif n /= c_n then
            j <= 0; n <= n + 1; bidx <= bidx + 1;
            a_addr <= a_row; b_row <= b_row + c_b_n; b_addr <= b_row + c_b_n;
          elsif r /= c_r then
            j <= 0; n <= 0; r <= r + 1; bidx <= c_bias0;
            a_row <= a_row + c_a_r; a_addr <= a_row + c_a_r; b_row <= b_head; b_addr <= b_head;
          elsif h /= c_h then
            j <= 0; n <= 0; r <= 0; h <= h + 1; bidx <= c_bias0;
            a_head <= a_head + c_a_h; a_row <= a_head + c_a_h; a_addr <= a_head + c_a_h;
            b_head <= b_head + c_b_h; b_row <= b_head + c_b_h; b_addr <= b_head + c_b_h;
          else
            state <= FLUSH;
          end if;
        when FLUSH =>
          null;
      end case;

      if rst = '1' then
        state   <= IDLE;
        flags   <= (others => NO_FLAGS);
        ld      <= '0';
        q_valid <= (others => '0');
        rv      <= '0';
      end if;
    end if;
  end process;
end architecture;
