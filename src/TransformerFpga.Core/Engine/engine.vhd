-- TransformerFpga MAC engine (FpgaArchitecture = Engine): one array of LANES multipliers and one
-- requantizer, shared by the linear, attention-score and attention-context layers that the sequencer
-- runs one after another. Each such layer is a job of the descriptor table below (J_* constants,
-- chosen by the sequencer's step):
--   out[h, r, n] = relu?(sat(round((bias[n] + sum_k a[h, r, k] * b[h, n, k]) * M0 * 2^-SHIFT)))
-- for h < H, r < R, n < N and k < J * LANES (the table holds H - 1, R - 1, N - 1, J - 1).
-- One read of each operand per cycle gives LANES consecutive k: a from the step's first source (a buffer of LANES column banks, word
-- h * A_H + r * A_R + j), b from the job's words of a weight ROM (linear) or from the step's second
-- source (scores: K; context: V, written transposed), word B_BASE + h * B_H + n * B_N + j. J_B_ROM says which:
-- 0 the second source, 1 WEIGHTS (memory left to synthesis), 2 WEIGHTS_BRAM (block RAM), 3 WEIGHTS_LUT (LUTs),
-- so that each layer's weights sit in the memory its project chose. The LANES
-- products (lanes from DSP_LANES on in LUTs) are summed by a registered tree (four per stage) into one accumulator: one output every J
-- cycles, one requantization per cycle at most. Output n of row r of head h is element
-- h * E_H + r * E_R + n * E_N of the job's output buffer (the top splits it into bank and word).
-- Every register-to-register path is one short step so that the engine meets 100 MHz: read address
-- registers and the registered weight ROM read -> a_q / b_q -> operands (DSP A/B, or the first half of
-- the LUT multiplier's tree) -> products (MREG, or the second half) -> products out (PREG) ->
-- TREE_STAGES sums -> accumulator -> magnitude -> magnitude * M0 (MREG) -> P -> + half -> shift ->
-- clamp (to 2^(Y-1) - 1 = J_LIMIT, or 2^(Y-1) when negative, for Y output bits) -> sign and ReLU -> write.
-- Write-back: a job may pass its outputs through up to E_STAGES element-wise layers before the write (a
-- positional encoding, a residual add, a batch norm: J_OPS of them), each stage computing
--   y = sat(round((x * GAIN(g) + s * MS + OFFSET(o)) * 2^-SHIFT)), g = G_BASE + n * G_N, o = O_BASE + r * O_R + n * O_N
-- where s is element r * S_R + n of the step's residual source (read through s_rd_addr; stage 1 only, when
-- E_RESIDUAL) and the GAIN and OFFSET tables are the stage's registered ROMs. Per element: magnitudes, products of magnitudes (MREG),
-- P, their signed sum, + offset, magnitude, + half, shift, clamp, sign: E_DEPTH stages. The layers' own buffers
-- are never written: the job writes the last one's.
-- Cycles from the edge that samples start to the edge after which done is high:
--   H * R * N * J + 14 + TREE_STAGES + E_DEPTH * J_OPS (one of them loads the job's descriptor)
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
    s_rd_addr : out unsigned(3 downto 0);
    s_rd_data : in  signed(7 downto 0);
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
  constant W_BRAM_DEPTH : positive := 2;
  constant W_LUT_DEPTH : positive := 2;
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
  -- write-back: the job's element-wise stages and the residual source's row pitch; per job and stage (index
  -- job * E_SLOTS + stage - 1) the tables' bases and steps, MS, shift, rounding bit and limits
  constant E_STAGES    : natural := 0;
  constant E_RESIDUAL  : natural := 0;
  constant E_SLOTS     : positive := 1;
  constant E_GAIN_BITS : positive := 2;
  constant E_OFF_BITS  : positive := 2;
  constant E_MS_BITS   : positive := 1;
  constant E_SUM_BITS  : positive := 8;
  constant E_G_DEPTH   : positive := 2;
  constant E_O_DEPTH   : positive := 2;
  constant J_OPS       : integer_vector := (0 => 0);
  constant J_S_R       : integer_vector := (0 => 0);
  constant P_G_BASE    : integer_vector := (0 => 0);
  constant P_G_N       : integer_vector := (0 => 0);
  constant P_O_BASE    : integer_vector := (0 => 0);
  constant P_O_R       : integer_vector := (0 => 0);
  constant P_O_N       : integer_vector := (0 => 0);
  constant P_MS        : integer_vector := (0 => 0);
  constant P_SHIFT     : integer_vector := (0 => 0);
  constant P_HALF      : integer_vector := (0 => -1);
  constant P_LIMIT     : integer_vector := (0 => 127);
  constant P_LIMIT_NEG : integer_vector := (0 => 128);
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
  -- write-back stages: x (YB bits) * gain, s * MS, their sum and the offset in E_SUM_BITS
  constant SB      : positive := s_rd_data'length;
  constant S_MAX   : natural := 2 ** s_rd_addr'length - 1;
  constant E_ARR   : positive := maximum(E_STAGES, 1);
  -- products of magnitudes (|x| * |gain|, |s| * MS): unsigned, one DSP48E1 each
  constant GX_BITS : positive := YB + E_GAIN_BITS;
  constant GS_BITS : positive := SB + E_MS_BITS;
  constant GX_TREE : positive := mul_tree_parts(E_GAIN_BITS + 1);
  constant GS_TREE : positive := mul_tree_parts(E_MS_BITS + 1);
  -- stages of one element-wise layer: 1 magnitudes, 2 products, 3 P, 4 signed sum, 5 + offset, 6 magnitude,
  -- 7 + half, 8 shift, 9 clamp, 10 sign
  constant E_DEPTH : positive := 10;

  -- tfpga:multiplier-begin
  constant LUT_MUL : boolean := false;
  -- tfpga:multiplier-end

  -- One weight ROM word holds LANES consecutive weights of one output, lane l in bits (l+1)*BB-1 downto l*BB.
  type wrom_t is array (0 to W_DEPTH - 1) of signed(LANES * BB - 1 downto 0);
  type wbrom_t is array (0 to W_BRAM_DEPTH - 1) of signed(LANES * BB - 1 downto 0);
  type wlrom_t is array (0 to W_LUT_DEPTH - 1) of signed(LANES * BB - 1 downto 0);
  type brom_t is array (0 to B_DEPTH - 1) of signed(BIAS_BITS - 1 downto 0);
  -- the write-back stages' gain and offset tables (stage 1: E1_*, stage 2: E2_*)
  -- (each as long as its stage needs; E_G_DEPTH and E_O_DEPTH are the longest)
  type grom_t is array (natural range <>) of signed(E_GAIN_BITS - 1 downto 0);
  type orom_t is array (natural range <>) of signed(E_OFF_BITS - 1 downto 0);
  -- tfpga:rom-begin
  constant WEIGHTS : wrom_t := (0 => "0001001100101101", 1 => "1111011100001001");
  signal WEIGHTS_BRAM : wbrom_t := (0 => "0000000000000000", 1 => "0000000000000000");
  signal WEIGHTS_LUT : wlrom_t := (0 => "0000000000000000", 1 => "0000000000000000");
  attribute rom_style : string;
  attribute rom_style of WEIGHTS_BRAM : signal is "block";
  attribute rom_style of WEIGHTS_LUT : signal is "distributed";
  constant BIAS : brom_t := (0 => "00000011", 1 => "00111000");
  constant E1_GAINS : grom_t := (0 => "01", 1 => "01");
  constant E1_OFFSETS : orom_t := (0 => "00", 1 => "00");
  constant E2_GAINS : grom_t := (0 => "01", 1 => "01");
  constant E2_OFFSETS : orom_t := (0 => "00", 1 => "00");
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
  signal c_b_rom  : natural range 0 to 3 := 0;
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
  signal w_rom_q, w_bram_q, w_lut_q : signed(LANES * BB - 1 downto 0) := (others => '0');
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
  -- write-back stages (index: stage); per stage the element counters and table addresses of the next element,
  -- its registered table entries, and its pipeline
  subtype g_index_t is natural range 0 to E_G_DEPTH - 1;
  subtype o_index_t is natural range 0 to E_O_DEPTH - 1;
  type e_count_t is array (1 to E_ARR) of count_t;
  type e_g_t is array (1 to E_ARR) of g_index_t;
  type e_o_t is array (1 to E_ARR) of o_index_t;
  type e_gain_t is array (1 to E_ARR) of signed(E_GAIN_BITS - 1 downto 0);
  type e_off_t is array (1 to E_ARR) of signed(E_OFF_BITS - 1 downto 0);
  type e_ms_t is array (1 to E_ARR) of unsigned(E_MS_BITS - 1 downto 0);
  type e_x_t is array (1 to E_ARR) of signed(YB - 1 downto 0);
  type e_gx_parts_t is array (1 to E_ARR) of signed(GX_TREE * (GX_BITS + 2) - 1 downto 0);
  type e_gs_parts_t is array (1 to E_ARR) of signed(GS_TREE * (GS_BITS + 2) - 1 downto 0);
  type e_gx_t is array (1 to E_ARR) of unsigned(GX_BITS - 1 downto 0);
  type e_gs_t is array (1 to E_ARR) of unsigned(GS_BITS - 1 downto 0);
  type e_xm_t is array (1 to E_ARR) of unsigned(YB - 1 downto 0);
  type e_sm_t is array (1 to E_ARR) of unsigned(SB - 1 downto 0);
  type e_gm_t is array (1 to E_ARR) of unsigned(E_GAIN_BITS - 1 downto 0);
  -- the products' signs, from the magnitudes (1) to the sum (3)
  type e_product_signs_t is array (1 to E_ARR) of std_logic_vector(1 to 3);
  type e_sum_t is array (1 to E_ARR) of signed(E_SUM_BITS - 1 downto 0);
  type e_mag_t is array (1 to E_ARR) of unsigned(E_SUM_BITS - 1 downto 0);
  type e_wide_t is array (1 to E_ARR) of unsigned(E_SUM_BITS downto 0);
  type e_shift_t is array (1 to E_ARR) of natural range 0 to E_SUM_BITS + 1;
  type e_flags_t is array (1 to E_ARR) of std_logic_vector(1 to E_DEPTH);
  -- the sign, from the stage that takes the magnitude (6) to the one that restores it (9)
  type e_signs_t is array (1 to E_ARR) of std_logic_vector(6 to 9);
  type e_limits_t is array (1 to E_ARR) of limits_t;
  signal c_ops    : natural range 0 to E_ARR := 0;
  signal c_s_r    : natural range 0 to S_MAX + 1 := 0;
  signal c_g_base, c_g_n : e_g_t := (others => 0);
  type e_o_step_t is array (1 to E_ARR) of natural range 0 to E_O_DEPTH;
  signal c_o_r, c_o_n : e_o_step_t := (others => 0);
  signal c_ms     : e_ms_t := (others => (others => '0'));
  signal c_e_shift : e_shift_t := (others => 0);
  signal c_e_half : e_wide_t := (others => (others => '0'));
  signal c_e_limit : e_limits_t := (others => (others => (others => '0')));
  signal en, er   : e_count_t := (others => 0);
  signal e_g      : e_g_t := (others => 0);
  signal e_o_row, e_o : e_o_t := (others => 0);
  signal s_row, s_addr : natural range 0 to S_MAX := 0;
  signal e_gain_q : e_gain_t := (others => (others => '0'));
  signal e_off_q  : e_off_t := (others => (others => '0'));
  signal e_valid  : e_flags_t := (others => (others => '0'));
  signal e_neg    : e_signs_t := (others => (others => '0'));
  signal e_xm     : e_xm_t := (others => (others => '0'));
  signal e_sm     : e_sm_t := (others => (others => '0'));
  signal e_gm     : e_gm_t := (others => (others => '0'));
  signal e_sign, e_sign_s : e_product_signs_t := (others => (others => '0'));
  signal e_ms     : e_ms_t := (others => (others => '0'));
  signal e_gx_parts : e_gx_parts_t := (others => (others => '0'));
  signal e_gs_parts : e_gs_parts_t := (others => (others => '0'));
  signal e_gx, e_gx_p : e_gx_t := (others => (others => '0'));
  signal e_gs, e_gs_p : e_gs_t := (others => (others => '0'));
  -- the offset, from the operands (1) to the stage before its sum (4)
  type e_offs_t is array (1 to E_ARR, 1 to 4) of signed(E_OFF_BITS - 1 downto 0);
  signal e_off    : e_offs_t := (others => (others => (others => '0')));
  signal e_sum, e_total : e_sum_t := (others => (others => '0'));
  signal e_mag    : e_mag_t := (others => (others => '0'));
  signal e_half, e_sh : e_wide_t := (others => (others => '0'));
  signal e_clamp  : e_x_t := (others => (others => '0'));
  signal e_y      : e_x_t := (others => (others => '0'));
  -- the write: the requantizer's result or the last stage's (the job's J_OPS)
  signal wv       : std_logic;
  signal wd       : signed(YB - 1 downto 0);
  -- write side: output n of row r of head h at element w_e
  signal wh, wr, wn : count_t := 0;
  signal w_head, w_row, w_e : element_t := 0;
begin
  a_rd_addr <= to_unsigned(a_addr, a_rd_addr'length);
  b_rd_addr <= to_unsigned(b_addr, b_rd_addr'length);
  s_rd_addr <= to_unsigned(s_addr, s_rd_addr'length);
  -- the write: the requantizer's result, or the job's last write-back stage's (a loop, so that no index leaves the
  -- stages' range)
  process (c_ops, rv, res, e_valid, e_y)
  begin
    wv <= rv;
    wd <= res;
    for st in 1 to E_STAGES loop
      if c_ops = st then
        wv <= e_valid(st)(E_DEPTH);
        wd <= e_y(st);
      end if;
    end loop;
  end process;
  wr_en     <= wv;
  wr_addr   <= to_unsigned(w_e, wr_addr'length);
  wr_data   <= wd;

  process (clk)
    variable issue : mac_flags_t;
    variable total : signed(ACC_BITS - 1 downto 0);
    variable count : positive;
    variable limit : unsigned(YB - 1 downto 0);
    variable neg   : signed(YB downto 0);
    variable e_in  : std_logic;
    variable e_pre : std_logic;
    variable e_xin : signed(YB - 1 downto 0);
    variable e_lim : unsigned(YB - 1 downto 0);
    variable e_a, e_b : signed(E_SUM_BITS - 1 downto 0);
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

      -- stage 1: the read data and the weight word of the read issued one cycle ago (each ROM's
      -- output register: w_rom_q, w_bram_q, w_lut_q)
      if b_addr <= WEIGHTS'high then
        w_rom_q <= WEIGHTS(b_addr);
      end if;
      if b_addr <= WEIGHTS_BRAM'high then
        w_bram_q <= WEIGHTS_BRAM(b_addr);
      end if;
      if b_addr <= WEIGHTS_LUT'high then
        w_lut_q <= WEIGHTS_LUT(b_addr);
      end if;
      a_q <= a_rd_data;
      -- (a conditional assignment, not a case: GHDL's Verilog drops a case's "others" data)
      b_q <= w_rom_q when c_b_rom = 1 else w_bram_q when c_b_rom = 2 else w_lut_q when c_b_rom = 3 else b_rd_data;
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
      q_mag      <= magnitude_lut(acc);
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
        if q_neg(6) = '1' and c_relu = '1' then
          res <= (others => '0');
        else
          neg := negate_when(signed(resize(q_clamp, YB + 1)), q_neg(6));
          res <= neg(YB - 1 downto 0);
        end if;
      end if;

      -- write-back stages: stage st takes the requantizer's result (st = 1) or stage st - 1's when the job has
      -- the stage; its table entries and the residual element are read at the edge before its operands (when
      -- the element is one stage short)
      for st in 1 to E_STAGES loop
        if st = 1 then
          e_in := rv; e_pre := q_valid(6); e_xin := res;
        else
          e_in := e_valid(st - 1)(E_DEPTH); e_pre := e_valid(st - 1)(E_DEPTH - 1); e_xin := e_y(st - 1);
        end if;
        if c_ops < st then
          e_in := '0'; e_pre := '0';
        end if;
        if st = 1 then
          if e_g(st) <= E1_GAINS'high then e_gain_q(st) <= E1_GAINS(e_g(st)); end if;
          if e_o(st) <= E1_OFFSETS'high then e_off_q(st) <= E1_OFFSETS(e_o(st)); end if;
        else
          if e_g(st) <= E2_GAINS'high then e_gain_q(st) <= E2_GAINS(e_g(st)); end if;
          if e_o(st) <= E2_OFFSETS'high then e_off_q(st) <= E2_OFFSETS(e_o(st)); end if;
        end if;
        -- the next element's table addresses (and the residual's), rows of N outputs
        -- (after the job's last element nothing moves: every address stays in its table or buffer)
        if e_pre = '1' then
          if en(st) /= c_n then
            en(st) <= en(st) + 1;
            e_g(st) <= e_g(st) + c_g_n(st);
            e_o(st) <= e_o(st) + c_o_n(st);
            if st = 1 then s_addr <= s_addr + 1; end if;
          elsif er(st) /= c_r then
            en(st) <= 0;
            er(st) <= er(st) + 1;
            e_g(st) <= c_g_base(st);
            e_o_row(st) <= e_o_row(st) + c_o_r(st);
            e_o(st) <= e_o_row(st) + c_o_r(st);
            if st = 1 then s_row <= s_row + c_s_r; s_addr <= s_row + c_s_r; end if;
          end if;
        end if;
        e_valid(st) <= e_in & e_valid(st)(1 to E_DEPTH - 1);
        -- 1: magnitudes and the products' signs (the DSP48E1's A/B registers: unsigned products take one each)
        e_xm(st) <= magnitude_lut(e_xin);
        e_gm(st) <= magnitude_lut(e_gain_q(st));
        e_sign(st)(1) <= e_xin(YB - 1) xor e_gain_q(st)(E_GAIN_BITS - 1);
        if st = 1 and E_RESIDUAL = 1 then
          e_sm(st) <= magnitude_lut(s_rd_data);
          e_sign_s(st)(1) <= s_rd_data(SB - 1);
        else
          e_sm(st) <= (others => '0');
          e_sign_s(st)(1) <= '0';
        end if;
        e_ms(st) <= c_ms(st);
        e_off(st, 1) <= e_off_q(st);
        -- 2: products (MREG), or the LUT multiplier's first half; 3: P, or its second half
        if LUT_MUL then
          e_gx_parts(st) <= mul_tree_first(signed('0' & e_xm(st)), signed('0' & e_gm(st)));
          e_gs_parts(st) <= mul_tree_first(signed('0' & e_sm(st)), signed('0' & e_ms(st)));
          e_gx_p(st) <= unsigned(mul_tree_second(e_gx_parts(st), GX_BITS + 2)(GX_BITS - 1 downto 0));
          e_gs_p(st) <= unsigned(mul_tree_second(e_gs_parts(st), GS_BITS + 2)(GS_BITS - 1 downto 0));
        else
          e_gx(st) <= e_xm(st) * e_gm(st);
          e_gs(st) <= e_sm(st) * e_ms(st);
          e_gx_p(st) <= e_gx(st);
          e_gs_p(st) <= e_gs(st);
        end if;
        for k in 2 to 4 loop
          e_off(st, k) <= e_off(st, k - 1);
        end loop;
        e_sign(st)(2 to 3) <= e_sign(st)(1 to 2);
        e_sign_s(st)(2 to 3) <= e_sign_s(st)(1 to 2);
        -- 4: the products' sum, signs restored; 5: + offset
        e_a := signed(resize(e_gx_p(st), E_SUM_BITS));
        e_b := signed(resize(e_gs_p(st), E_SUM_BITS));
        e_sum(st)   <= negate_when(e_a, e_sign(st)(3)) + negate_when(e_b, e_sign_s(st)(3));
        e_total(st) <= e_sum(st) + resize(e_off(st, 4), E_SUM_BITS);
        -- 6: magnitude; 7: + half; 8: shift
        e_mag(st)  <= magnitude_lut(e_total(st));
        e_neg(st)  <= e_total(st)(E_SUM_BITS - 1) & e_neg(st)(6 to 8);
        e_half(st) <= resize(e_mag(st), E_SUM_BITS + 1) + c_e_half(st);
        e_sh(st)   <= shift_right(e_half(st), c_e_shift(st));
        -- 9: clamp to the layer's range; 10: sign
        e_lim := c_e_limit(st)(1) when e_neg(st)(8) = '1' else c_e_limit(st)(0);
        if e_sh(st) > resize(e_lim, E_SUM_BITS + 1) then
          e_clamp(st) <= signed(e_lim);
        else
          e_clamp(st) <= signed(e_sh(st)(YB - 1 downto 0));
        end if;
        neg := negate_when(signed(resize(unsigned(e_clamp(st)), YB + 1)), e_neg(st)(9));
        e_y(st) <= neg(YB - 1 downto 0);
      end loop;

      -- write: the job's result is written at this edge when wv is high
      if wv = '1' then
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
          c_b_rom <= J_B_ROM(job);
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
          c_ops <= J_OPS(job);
          c_s_r <= J_S_R(job);
          s_row <= 0; s_addr <= 0;
          for st in 1 to E_STAGES loop
            c_g_base(st) <= P_G_BASE(job * E_SLOTS + st - 1);
            c_g_n(st)    <= P_G_N(job * E_SLOTS + st - 1);
            c_o_r(st)    <= P_O_R(job * E_SLOTS + st - 1);
            c_o_n(st)    <= P_O_N(job * E_SLOTS + st - 1);
            c_ms(st)     <= to_unsigned(P_MS(job * E_SLOTS + st - 1), E_MS_BITS);
            c_e_shift(st) <= P_SHIFT(job * E_SLOTS + st - 1);
            for b in 0 to E_SUM_BITS loop
              c_e_half(st)(b) <= '1' when P_HALF(job * E_SLOTS + st - 1) = b else '0';
            end loop;
            c_e_limit(st) <= (to_unsigned(P_LIMIT(job * E_SLOTS + st - 1), YB), to_unsigned(P_LIMIT_NEG(job * E_SLOTS + st - 1), YB));
            en(st) <= 0; er(st) <= 0;
            e_g(st) <= P_G_BASE(job * E_SLOTS + st - 1);
            e_o_row(st) <= P_O_BASE(job * E_SLOTS + st - 1);
            e_o(st) <= P_O_BASE(job * E_SLOTS + st - 1);
          end loop;
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
