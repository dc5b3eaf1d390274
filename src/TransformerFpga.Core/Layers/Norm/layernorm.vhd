-- TransformerFpga integer layer norm (LayerNormLayer.Simulate), per row of DM channels:
--   S = sum_c x_c,  Q = sum_c x_c^2,  sum_c D_c^2 = DM * (DM * Q - S^2)  (D_c = DM * x_c - S),
--   r = max(1, floor(sqrt(sum_c D_c^2 + EPS))),  R = floor(2^K / r),
--   u_c = round(D_c * R * 2^-(K-16)),  y_c = sat(round((u_c * G[c] + B[c]) * 2^-SHIFT))
-- Every product goes through one shared unsigned multiplier of magnitudes (signs kept aside):
-- A_BITS x DIGIT_BITS, registered at its inputs (a_q, b_q), product (m_q) and output (p_q) so that
-- synthesis packs it into one DSP48E1 with AREG/BREG, MREG and PREG. An operand B wider than one
-- digit is fed most significant digit first and accumulated as acc = acc * 2^DIGIT_BITS + p.
-- With LUT multipliers the digit is 2 bits wide and the product a single adder.
-- The buffer's read data is registered here (rd_q) before use; square root and reciprocal are
-- digit-by-digit, one bit per clock; rounding and saturation of the output take three stages.
-- A multiplication with an N-digit B takes N + 4 clocks from its set-up (see LayerNormHardware.Cycles).
library ieee;
use ieee.std_logic_1164.all;
use ieee.numeric_std.all;
use work.tfpga_pkg.all;

entity tfpga_layernorm is
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
  -- tfpga:entity-attributes-begin
  -- tfpga:entity-attributes-end
end entity;

architecture rtl of tfpga_layernorm is
  -- tfpga:constants-begin
  constant ROWS       : positive := 2;
  constant DM         : positive := 4;
  constant DM_BITS    : positive := 3;
  constant SUM_BITS   : positive := 11;
  constant SQX_BITS   : positive := 16;
  constant T_BITS     : positive := 18;
  constant CEN_BITS   : positive := 12;
  constant SQ_BITS    : positive := 24;
  constant RT_BITS    : positive := 13;
  constant EPS        : unsigned(2 * RT_BITS - 1 downto 0) := "00000000000000000000000011";
  constant K          : positive := 29;
  constant NORM_BITS  : positive := 17;
  constant GB         : positive := 8;
  constant BB         : positive := 26;
  constant S_BITS     : positive := 30;
  constant SHIFT      : natural := 6;
  constant A_BITS     : positive := 17;
  constant DIGIT_BITS : positive := 17;
  constant B_BITS     : positive := 34;
  constant ACC_BITS   : positive := 30;
  constant ND_X       : positive := 1;
  constant ND_SQX     : positive := 1;
  constant ND_S       : positive := 1;
  constant ND_V       : positive := 2;
  constant ND_R       : positive := 2;
  constant ND_G       : positive := 1;
  -- tfpga:constants-end
  constant YB : positive := wr_data'length;
  constant XB : positive := src0_rd_data'length;
  constant ND_MAX : positive := B_BITS / DIGIT_BITS;
  -- GAIN: the gain's sign in bit GB, its magnitude below
  type gain_rom_t is array (0 to maximum(DM, 2) - 1) of unsigned(GB downto 0);
  type offset_rom_t is array (0 to maximum(DM, 2) - 1) of signed(BB - 1 downto 0);
  -- tfpga:rom-begin
  constant GAIN   : gain_rom_t := (0 => "001000000", 1 => "000110000", 2 => "101010000", 3 => "001000100");
  constant OFFSET : offset_rom_t := (0 => "00000000000000000000000000", 1 => "00000000010000000000000000",
    2 => "11111111110000000000000000", 3 => "00000000000000000000000000");
  -- tfpga:rom-end

  -- tfpga:multiplier-begin
  function digit_mul(a : unsigned; b : unsigned) return unsigned is
  begin
    return a * b;
  end function;
  -- tfpga:multiplier-end

  -- B operand of an nd-digit product, its most significant digit at the top of the shift register
  function b_load(v : unsigned; nd : positive) return unsigned is
  begin
    return shift_left(resize(v, B_BITS), B_BITS - nd * DIGIT_BITS);
  end function;

  type state_t is (IDLE, RD_WAIT, SQ_X, SQ_D, MUL, DRAIN, POST, ROOT_STEP, DIV_LOAD, DIV_STEP, OUT_X, OUT_CEN, Y_ROUND, Y_SAT, Y_SIGN);
  -- the products, in the order a row needs them
  type job_t is (J_XX, J_DSQ, J_SS, J_DV, J_DX, J_DR, J_UG);
  signal state    : state_t := IDLE;
  signal job      : job_t := J_XX;
  signal out_pass : std_logic := '0';
  signal rd_phase  : natural range 0 to 1 := 0;
  signal c        : natural range 0 to DM - 1 := 0;
  signal row      : natural range 0 to ROWS - 1 := 0;
  signal rbase    : natural range 0 to ROWS * DM := 0;
  signal rd_addr_q : natural range 0 to ROWS * DM := 0;
  signal rd_q     : signed(XB - 1 downto 0) := (others => '0');
  -- shared multiplier
  signal a_q      : unsigned(A_BITS - 1 downto 0) := (others => '0');
  signal b_q      : unsigned(DIGIT_BITS - 1 downto 0) := (others => '0');
  signal m_q, p_q : unsigned(A_BITS + DIGIT_BITS - 1 downto 0) := (others => '0');
  signal bsh      : unsigned(B_BITS - 1 downto 0) := (others => '0');
  signal digit    : natural range 0 to ND_MAX - 1 := 0;
  signal drain_count    : natural range 0 to 2 := 0;
  signal first    : std_logic := '0';
  signal v0, v1, v2, f0, f1, f2 : std_logic := '0';
  signal acc      : unsigned(ACC_BITS - 1 downto 0) := (others => '0');
  -- row statistics
  signal sum      : signed(SUM_BITS - 1 downto 0) := (others => '0');
  signal neg_sum  : signed(CEN_BITS - 1 downto 0) := (others => '0');
  signal sqsum    : unsigned(SQX_BITS - 1 downto 0) := (others => '0');
  signal t1       : unsigned(T_BITS - 1 downto 0) := (others => '0');
  signal v        : unsigned(2 * RT_BITS - 1 downto 0) := (others => '0');
  signal it       : natural range 0 to K + RT_BITS := 0;
  signal rem_s    : unsigned(RT_BITS + 3 downto 0) := (others => '0');
  signal root     : unsigned(RT_BITS - 1 downto 0) := (others => '0');
  signal divisor  : unsigned(RT_BITS downto 0) := (others => '0');
  signal rem_d    : unsigned(RT_BITS downto 0) := (others => '0');
  signal quo      : unsigned(K downto 0) := (others => '0');
  -- output pass
  signal x_neg, cen_neg, s_neg, r_neg : std_logic := '0';
  signal cen      : signed(CEN_BITS - 1 downto 0) := (others => '0');
  signal s_q      : signed(S_BITS - 1 downto 0) := (others => '0');
  signal r_mag    : unsigned(S_BITS - 1 downto 0) := (others => '0');
  signal c_mag    : unsigned(YB - 1 downto 0) := (others => '0');
  signal y_q      : signed(YB - 1 downto 0) := (others => '0');
  signal wr_en_q  : std_logic := '0';
  signal wr_addr_q : natural range 0 to ROWS * DM := 0;
begin
  src0_rd_addr <= to_unsigned(rd_addr_q, src0_rd_addr'length);
  wr_en        <= wr_en_q;
  wr_addr      <= to_unsigned(wr_addr_q, wr_addr'length);
  wr_data      <= y_q;

  process (clk)
    variable rs    : unsigned(RT_BITS + 3 downto 0);
    variable trial : unsigned(RT_BITS + 3 downto 0);
    variable rd    : unsigned(RT_BITS downto 0);
    variable rnd   : signed(S_BITS downto 0);
    variable ysgn  : signed(YB downto 0);
    variable umag  : unsigned(ACC_BITS - 1 downto 0);

    procedure start_mul(a : unsigned; b : unsigned; nd : positive; next_job : job_t) is
    begin
      a_q   <= resize(a, A_BITS);
      bsh   <= b_load(b, nd);
      digit <= nd - 1;
      first <= '1';
      job   <= next_job;
      state <= MUL;
    end procedure;

    procedure read_channel(addr : natural; output_pass : std_logic) is
    begin
      rd_addr_q <= addr;
      out_pass  <= output_pass;
      rd_phase   <= 0;
      state     <= RD_WAIT;
    end procedure;
  begin
    if rising_edge(clk) then
      done    <= '0';
      wr_en_q <= '0';
      rd_q    <= src0_rd_data;
      -- multiplier pipeline: a_q/b_q -> m_q -> p_q -> acc
      b_q <= bsh(B_BITS - 1 downto B_BITS - DIGIT_BITS);
      m_q <= digit_mul(a_q, b_q);
      p_q <= m_q;
      v0 <= '0';
      v1 <= v0; f1 <= f0;
      v2 <= v1; f2 <= f1;
      if v2 = '1' then
        if f2 = '1' then
          acc <= resize(p_q, ACC_BITS);
        else
          acc <= shift_left(acc, DIGIT_BITS) + resize(p_q, ACC_BITS);
        end if;
      end if;
      if rst = '1' then
        state <= IDLE;
        v0 <= '0'; v1 <= '0'; v2 <= '0';
      else
        case state is
          when IDLE =>
            if start = '1' then
              c <= 0; row <= 0; rbase <= 0;
              sum <= (others => '0');
              sqsum <= (others => '0');
              read_channel(0, '0');
            end if;
          when RD_WAIT =>
            -- address registered, buffer read, rd_q registered: rd_q is x_c in the next state
            if rd_phase = 1 then
              if out_pass = '1' then
                state <= OUT_X;
              else
                state <= SQ_X;
              end if;
            else
              rd_phase <= 1;
            end if;
          when SQ_X =>
            sum <= sum + resize(rd_q, SUM_BITS);
            start_mul(magnitude(rd_q), magnitude(rd_q), ND_X, J_XX);
          when SQ_D =>
            start_mul(to_unsigned(DM, DM_BITS), sqsum, ND_SQX, J_DSQ);
          when MUL =>
            bsh <= shift_left(bsh, DIGIT_BITS);
            v0 <= '1';
            f0 <= first;
            first <= '0';
            if digit = 0 then
              drain_count <= 0;
              state <= DRAIN;
            else
              digit <= digit - 1;
            end if;
          when DRAIN =>
            if drain_count = 2 then
              state <= POST;
            else
              drain_count <= drain_count + 1;
            end if;
          when POST =>
            case job is
              when J_XX =>
                sqsum <= sqsum + resize(acc, SQX_BITS);
                if c = DM - 1 then
                  state <= SQ_D;
                else
                  c <= c + 1;
                  read_channel(rbase + c + 1, '0');
                end if;
              when J_DSQ =>
                t1 <= resize(acc, T_BITS);
                start_mul(magnitude(sum), magnitude(sum), ND_S, J_SS);
              when J_SS =>
                -- DM * Q - S^2 >= 0 (Cauchy-Schwarz)
                start_mul(to_unsigned(DM, DM_BITS), t1 - resize(acc, T_BITS), ND_V, J_DV);
              when J_DV =>
                v <= resize(acc, 2 * RT_BITS) + EPS;
                rem_s <= (others => '0');
                root <= (others => '0');
                it <= RT_BITS - 1;
                neg_sum <= -resize(sum, CEN_BITS);
                state <= ROOT_STEP;
              when J_DX =>
                if x_neg = '1' then
                  cen <= neg_sum - signed(resize(acc, CEN_BITS));
                else
                  cen <= neg_sum + signed(resize(acc, CEN_BITS));
                end if;
                state <= OUT_CEN;
              when J_DR =>
                -- |u| = round(|D| * R * 2^-(K-16)), half away from zero on the magnitude
                umag := shift_right(acc + shift_left(to_unsigned(1, ACC_BITS), K - 17), K - 16);
                s_neg <= cen_neg xor GAIN(c)(GB);
                start_mul(umag, GAIN(c)(GB - 1 downto 0), ND_G, J_UG);
              when J_UG =>
                if s_neg = '1' then
                  s_q <= resize(OFFSET(c), S_BITS) - signed(resize(acc, S_BITS));
                else
                  s_q <= resize(OFFSET(c), S_BITS) + signed(resize(acc, S_BITS));
                end if;
                state <= Y_ROUND;
            end case;
          when ROOT_STEP =>
            -- one result bit per clock from the top two bits of v
            rs    := rem_s(RT_BITS + 1 downto 0) & v(2 * RT_BITS - 1 downto 2 * RT_BITS - 2);
            trial := resize(root & "01", RT_BITS + 4);
            if rs >= trial then
              rem_s <= rs - trial;
              root  <= root(RT_BITS - 2 downto 0) & '1';
            else
              rem_s <= rs;
              root  <= root(RT_BITS - 2 downto 0) & '0';
            end if;
            v <= shift_left(v, 2);
            if it = 0 then
              state <= DIV_LOAD;
            else
              it <= it - 1;
            end if;
          when DIV_LOAD =>
            if root = 0 then
              divisor <= to_unsigned(1, RT_BITS + 1);
            else
              divisor <= resize(root, RT_BITS + 1);
            end if;
            rem_d <= (others => '0');
            quo   <= (others => '0');
            it    <= K;
            state <= DIV_STEP;
          when DIV_STEP =>
            -- restoring division of 2^K: the dividend's only 1 enters first
            if it = K then
              rd := rem_d(RT_BITS - 1 downto 0) & '1';
            else
              rd := rem_d(RT_BITS - 1 downto 0) & '0';
            end if;
            if rd >= divisor then
              rem_d <= rd - divisor;
              quo   <= quo(K - 1 downto 0) & '1';
            else
              rem_d <= rd;
              quo   <= quo(K - 1 downto 0) & '0';
            end if;
            if it = 0 then
              c <= 0;
              read_channel(rbase, '1');
            else
              it <= it - 1;
            end if;
          when OUT_X =>
            x_neg <= rd_q(XB - 1);
            start_mul(to_unsigned(DM, DM_BITS), magnitude(rd_q), ND_X, J_DX);
          when OUT_CEN =>
            cen_neg <= cen(CEN_BITS - 1);
            start_mul(magnitude(cen), quo, ND_R, J_DR);
          when Y_ROUND =>
            r_neg <= s_q(S_BITS - 1);
            if SHIFT = 0 then
              r_mag <= magnitude(s_q);
            else
              if s_q(S_BITS - 1) = '1' then
                rnd := shift_left(to_signed(1, S_BITS + 1), maximum(SHIFT, 1) - 1) - resize(s_q, S_BITS + 1);
              else
                rnd := shift_left(to_signed(1, S_BITS + 1), maximum(SHIFT, 1) - 1) + resize(s_q, S_BITS + 1);
              end if;
              r_mag <= resize(shift_right(unsigned(rnd), SHIFT), S_BITS);
            end if;
            state <= Y_SAT;
          when Y_SAT =>
            -- saturate the magnitude: 2^(YB-1) below zero, 2^(YB-1) - 1 above (tested on its upper
            -- bits: no carry chain)
            if r_neg = '1' and (r_mag(S_BITS - 1 downto YB) /= 0 or (r_mag(YB - 1) = '1' and r_mag(YB - 2 downto 0) /= 0)) then
              c_mag <= shift_left(to_unsigned(1, YB), YB - 1);
            elsif r_neg = '0' and r_mag(S_BITS - 1 downto YB - 1) /= 0 then
              c_mag <= shift_left(to_unsigned(1, YB), YB - 1) - 1;
            else
              c_mag <= r_mag(YB - 1 downto 0);
            end if;
            state <= Y_SIGN;
          when Y_SIGN =>
            if r_neg = '1' then
              ysgn := -signed('0' & c_mag);
            else
              ysgn := signed('0' & c_mag);
            end if;
            y_q       <= ysgn(YB - 1 downto 0);
            wr_en_q   <= '1';
            wr_addr_q <= rbase + c;
            if c = DM - 1 then
              c <= 0;
              if row = ROWS - 1 then
                done  <= '1';
                state <= IDLE;
              else
                row   <= row + 1;
                rbase <= rbase + DM;
                sum   <= (others => '0');
                sqsum <= (others => '0');
                read_channel(rbase + DM, '0');
              end if;
            else
              c <= c + 1;
              read_channel(rbase + c + 1, '1');
            end if;
        end case;
      end if;
    end if;
  end process;
end architecture;
