-- TransformerFpga integer layer norm (LayerNormLayer.Simulate), per row of DM channels:
--   S = sum_c x_c,  Q = sum_c x_c^2,  sum_c D_c^2 = DM * (DM * Q - S^2)  (D_c = DM * x_c - S),
--   r = max(1, floor(sqrt(sum_c D_c^2 + EPS))),  L = bits(r),  R = floor((2^(L+16) - 1) / r),
--   u_c = round(D_c * R * 2^-L),  y_c = sat(round((u_c * G[c] + B[c]) * 2^-SHIFT))
-- One instance may run several layer norms of the same shape (JOBS, each a sequencer step): the job, taken at
-- start, chooses its EPS and its rows of the GAIN and OFFSET tables; a job's gains and offsets are stored scaled
-- by 2^(SHIFT - its own shift), which rounds to the same values.
-- Three stages work on three rows at once, each handing its row to the next when that one is idle:
--   front  streams row r+1 from the source buffer, one element per clock: S, Q (x^2 on a multiplier),
--          and a copy of the row in a three-row ring;
--   middle S^2 one bit per clock, the sum of squares (its products with DM one set bit of DM per clock),
--          the root one bit per clock, then r normalised
--          (shifted left until its top bit is set: sh = RT_BITS - L) and R = floor(2^(RT_BITS+16) / (r * 2^sh))
--          in 18 steps, the same R as floor(2^(L+16) / r);
--   back   streams row r-1 from the ring, one element per clock: D, |D| * 2^sh * R (RT_BITS x 18 bits: |D| <= r),
--          rounded by 2^-RT_BITS, times |G[c]|, plus B[c], rounded, saturated and written.
-- Products take two registers (MREG and PREG of a DSP48E1, or the two halves of the LUT adder tree);
-- multiplications by DM are shifts and adds of a constant. Cycles: LayerNormHardware.Cycles.
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
    job          : in  unsigned(0 downto 0);
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
  constant ROWS      : positive := 2;
  constant DM        : positive := 4;
  constant SUM_BITS  : positive := 11;
  constant SMAG_BITS : positive := 10;
  constant SQX_BITS  : positive := 16;
  constant T_BITS    : positive := 18;
  constant CEN_BITS  : positive := 12;
  constant RT_BITS   : positive := 13;
  constant JOBS      : positive := 1;
  constant GB        : positive := 8;
  constant BB        : positive := 26;
  constant S_BITS    : positive := 30;
  constant SHIFT     : natural := 6;
  -- tfpga:constants-end
  constant XB        : positive := src0_rd_data'length;
  constant YB        : positive := wr_data'length;
  constant N         : positive := ROWS * DM;
  -- |u| <= 2^16 and 2^16 <= R < 2^17
  constant U_BITS    : positive := 17;
  constant R_BITS    : positive := 17;
  constant RING_DEPTH : positive := 3 * DM;
  constant BDEPTH    : positive := 14;  -- back stages from the ring address to the written value
  constant SQ_W      : positive := 2 * XB + 2;
  -- LUT multipliers take R in two halves, each a shallower adder tree than the whole
  constant RL_BITS   : positive := 9;
  constant RH_BITS   : positive := R_BITS - RL_BITS;
  constant RL_W      : positive := RT_BITS + RL_BITS + 2;
  constant RH_W      : positive := RT_BITS + RH_BITS + 2;
  constant GP_W      : positive := U_BITS + GB + 2;
  -- GAIN: the gain's sign in bit GB, its magnitude below; DM entries per job
  type gain_rom_t is array (0 to maximum(JOBS * DM, 2) - 1) of unsigned(GB downto 0);
  type offset_rom_t is array (0 to maximum(JOBS * DM, 2) - 1) of signed(BB - 1 downto 0);
  type eps_rom_t is array (0 to JOBS - 1) of unsigned(2 * RT_BITS - 1 downto 0);
  -- tfpga:rom-begin
  constant GAIN   : gain_rom_t := (0 => "001000000", 1 => "000110000", 2 => "101010000", 3 => "001000100");
  constant OFFSET : offset_rom_t := (0 => "00000000000000000000000000", 1 => "00000000010000000000000000",
    2 => "11111111110000000000000000", 3 => "00000000000000000000000000");
  constant EPS    : eps_rom_t := (0 => "00000000000000000000000011");
  -- tfpga:rom-end

  -- tfpga:multiplier-begin
  constant LUT_MUL : boolean := false;
  -- tfpga:multiplier-end
  constant SQ_TREE : positive := mul_tree_parts(XB + 1);
  constant RL_TREE : positive := mul_tree_parts(RL_BITS + 1);
  constant RH_TREE : positive := mul_tree_parts(RH_BITS + 1);
  constant GP_TREE : positive := mul_tree_parts(GB + 1);

  type ring_t is array (0 to RING_DEPTH - 1) of signed(XB - 1 downto 0);
  signal ring : ring_t := (others => (others => '0'));
  attribute ram_style : string;
  attribute ram_style of ring : signal is "distributed";

  function set_bits(v : natural) return natural is
    variable count : natural := 0;
  begin
    for i in 0 to 30 loop
      if (v / 2 ** i) mod 2 = 1 then
        count := count + 1;
      end if;
    end loop;
    return count;
  end function;

  -- the positions of DM's set bits: the middle multiplies by DM one set bit per clock
  constant DM_TERMS : positive := set_bits(DM);
  type positions_t is array (0 to DM_TERMS - 1) of natural range 0 to 30;
  function dm_positions return positions_t is
    variable p : positions_t := (others => 0);
    variable k : natural := 0;
  begin
    for i in 0 to 30 loop
      if (DM / 2 ** i) mod 2 = 1 then
        p(k) := i;
        k := k + 1;
      end if;
    end loop;
    return p;
  end function;
  constant DM_POS : positions_t := dm_positions;

  -- v * DM: one shifted copy of v per set bit of the constant DM, added
  function times_dm(v : signed; w : positive) return signed is
    variable acc : signed(w - 1 downto 0) := (others => '0');
  begin
    for i in 0 to 30 loop
      if (DM / 2 ** i) mod 2 = 1 then
        acc := acc + shift_left(resize(v, w), i);
      end if;
    end loop;
    return acc;
  end function;

  -- v'length - bits(v) for v /= 0
  function leading_zeros(v : unsigned) return natural is
    variable vv : unsigned(v'length - 1 downto 0) := v;
  begin
    for i in v'length - 1 downto 0 loop
      if vv(i) = '1' then
        return v'length - 1 - i;
      end if;
    end loop;
    return 0;
  end function;

  function signed_of(p : unsigned; negative : std_logic) return signed is
    variable v : signed(S_BITS - 1 downto 0) := signed(resize(p, S_BITS));
  begin
    if negative = '1' then
      return -v;
    end if;
    return v;
  end function;

  -- the job of the current run, and its first entry in GAIN and OFFSET
  signal job_q     : natural range 0 to JOBS - 1 := 0;
  signal gbase     : natural range 0 to (JOBS - 1) * DM := 0;
  -- front: statistics of a row
  type front_t is (F_IDLE, F_READ, F_WAIT, F_HOLD);
  signal fstate    : front_t := F_IDLE;
  signal frow      : natural range 0 to ROWS - 1 := 0;
  signal fc        : natural range 0 to DM - 1 := 0;
  signal fbase     : natural range 0 to N := 0;
  signal fring     : natural range 0 to RING_DEPTH - 1 := 0;
  signal fwp       : natural range 0 to RING_DEPTH - 1 := 0;
  signal fwait     : natural range 0 to 5 := 0;
  signal fv        : std_logic_vector(0 to 5) := (others => '0');
  signal rd_addr_q : natural range 0 to N := 0;
  signal rd_q      : signed(XB - 1 downto 0) := (others => '0');
  signal sum       : signed(SUM_BITS - 1 downto 0) := (others => '0');
  signal sqa       : unsigned(XB - 1 downto 0) := (others => '0');
  signal sq_m      : unsigned(2 * XB - 1 downto 0) := (others => '0');
  signal sq_parts  : signed(SQ_TREE * SQ_W - 1 downto 0) := (others => '0');
  signal sq_p      : unsigned(2 * XB - 1 downto 0) := (others => '0');
  signal sqsum     : unsigned(SQX_BITS - 1 downto 0) := (others => '0');
  -- middle: root and reciprocal of a row
  type middle_t is (M_IDLE, M_SQ, M_DQ, M_V, M_DV, M_RAD, M_ROOT, M_LZ, M_SH, M_DIV, M_HOLD);
  signal mstate    : middle_t := M_IDLE;
  signal m_sum     : signed(SUM_BITS - 1 downto 0) := (others => '0');
  signal m_sqsum   : unsigned(SQX_BITS - 1 downto 0) := (others => '0');
  signal m_ring    : natural range 0 to RING_DEPTH - 1 := 0;
  signal m_smag    : unsigned(SMAG_BITS - 1 downto 0) := (others => '0');
  signal m_bits    : unsigned(SMAG_BITS - 1 downto 0) := (others => '0');
  signal sqacc     : unsigned(2 * SMAG_BITS - 1 downto 0) := (others => '0');
  signal it        : natural range 0 to maximum(SMAG_BITS, maximum(RT_BITS, R_BITS)) := 0;
  signal var_v     : unsigned(T_BITS - 1 downto 0) := (others => '0');
  signal macc      : unsigned(2 * RT_BITS - 1 downto 0) := (others => '0');
  signal term      : natural range 0 to DM_TERMS - 1 := 0;
  signal rad       : unsigned(2 * RT_BITS - 1 downto 0) := (others => '0');
  signal rem_s     : unsigned(RT_BITS + 3 downto 0) := (others => '0');
  signal root      : unsigned(RT_BITS - 1 downto 0) := (others => '0');
  signal rn        : unsigned(RT_BITS - 1 downto 0) := (others => '0');
  signal sh        : natural range 0 to RT_BITS - 1 := 0;
  signal drem      : unsigned(RT_BITS downto 0) := (others => '0');
  signal recip     : unsigned(R_BITS - 1 downto 0) := (others => '0');
  -- back: the normalised row
  type back_t is (B_IDLE, B_ISSUE, B_DRAIN);
  signal bstate    : back_t := B_IDLE;
  signal b_sum     : signed(SUM_BITS - 1 downto 0) := (others => '0');
  signal b_ring    : natural range 0 to RING_DEPTH - 1 := 0;
  signal b_sh      : natural range 0 to RT_BITS - 1 := 0;
  signal b_r       : unsigned(R_BITS - 1 downto 0) := (others => '0');
  signal bc        : natural range 0 to DM - 1 := 0;
  signal bdrain    : natural range 0 to BDEPTH - 1 := 0;
  signal bv        : std_logic_vector(0 to BDEPTH - 1) := (others => '0');
  signal neg       : std_logic_vector(4 to BDEPTH - 1) := (others => '0');
  signal bra       : natural range 0 to RING_DEPTH - 1 := 0;
  signal rx        : signed(XB - 1 downto 0) := (others => '0');
  signal dx, cen   : signed(CEN_BITS - 1 downto 0) := (others => '0');
  signal cmag      : unsigned(CEN_BITS - 1 downto 0) := (others => '0');
  signal cmn       : unsigned(RT_BITS - 1 downto 0) := (others => '0');
  signal rp_m      : unsigned(RT_BITS + R_BITS - 1 downto 0) := (others => '0');
  signal rp_p      : unsigned(RT_BITS + R_BITS - 1 downto 0) := (others => '0');
  signal rl_parts  : signed(RL_TREE * RL_W - 1 downto 0) := (others => '0');
  signal rh_parts  : signed(RH_TREE * RH_W - 1 downto 0) := (others => '0');
  signal rl_p      : unsigned(RT_BITS + RL_BITS - 1 downto 0) := (others => '0');
  signal rh_p      : unsigned(RT_BITS + RH_BITS - 1 downto 0) := (others => '0');
  signal umag      : unsigned(U_BITS - 1 downto 0) := (others => '0');
  signal gch       : natural range 0 to DM - 1 := 0;
  signal gidx      : natural range 0 to JOBS * DM - 1 := 0;
  signal gain_q    : unsigned(GB downto 0) := (others => '0');
  signal off8, off9, off10 : signed(BB - 1 downto 0) := (others => '0');
  signal gp_m      : unsigned(U_BITS + GB - 1 downto 0) := (others => '0');
  signal gp_parts  : signed(GP_TREE * GP_W - 1 downto 0) := (others => '0');
  signal gp_p      : unsigned(U_BITS + GB - 1 downto 0) := (others => '0');
  signal s11       : signed(S_BITS - 1 downto 0) := (others => '0');
  signal m12       : unsigned(S_BITS - 1 downto 0) := (others => '0');
  signal r13       : unsigned(S_BITS - 1 downto 0) := (others => '0');
  signal y_q       : signed(YB - 1 downto 0) := (others => '0');
  signal wr_en_q   : std_logic := '0';
  signal wcount    : natural range 0 to N - 1 := 0;
  signal wr_addr_q : natural range 0 to N - 1 := 0;
begin
  src0_rd_addr <= to_unsigned(rd_addr_q, src0_rd_addr'length);
  wr_en        <= wr_en_q;
  wr_addr      <= to_unsigned(wr_addr_q, wr_addr'length);
  wr_data      <= y_q;

  process (clk)
    variable rs    : unsigned(RT_BITS + 3 downto 0);
    variable trial : unsigned(RT_BITS + 3 downto 0);
    variable rd    : unsigned(RT_BITS downto 0);
    variable rr    : unsigned(RT_BITS - 1 downto 0);
    variable half  : unsigned(RT_BITS + R_BITS - 1 downto 0);
  begin
    if rising_edge(clk) then
      done    <= '0';
      wr_en_q <= '0';

      -- front pipeline: address, buffer read, rd_q; then S, |x| and the ring; x^2 in two registers; Q
      fv(1 to 5) <= fv(0 to 4);
      fv(0) <= '0';
      rd_q <= src0_rd_data;
      if fv(2) = '1' then
        sum <= sum + resize(rd_q, SUM_BITS);
        sqa <= magnitude(rd_q);
        ring(fwp) <= rd_q;
        if fwp = RING_DEPTH - 1 then fwp <= 0; else fwp <= fwp + 1; end if;
      end if;
      if LUT_MUL then
        sq_parts <= mul_tree_first(signed('0' & sqa), signed('0' & sqa));
        sq_p     <= unsigned(mul_tree_second(sq_parts, SQ_W)(2 * XB - 1 downto 0));
      else
        sq_m <= sqa * sqa;
        sq_p <= sq_m;
      end if;
      if fv(5) = '1' then
        sqsum <= sqsum + resize(sq_p, SQX_BITS);
      end if;

      -- back pipeline (element issued at edge e: its value is written at edge e + BDEPTH):
      --   e+1 ring read, e+2 DM * x, e+3 D, e+4 |D|, e+5 |D| * 2^sh, e+6/e+7 the product with R,
      --   e+8 |u| and the channel's gain and offset, e+9/e+10 |u| * |G|, e+11 sign and offset, e+12 |s|,
      --   e+13 rounding, e+14 saturation
      bv(1 to BDEPTH - 1) <= bv(0 to BDEPTH - 2);
      bv(0) <= '0';
      neg(5 to BDEPTH - 1) <= neg(4 to BDEPTH - 2);
      rx   <= ring(bra);
      dx   <= times_dm(rx, CEN_BITS);
      cen  <= dx - resize(b_sum, CEN_BITS);
      cmag <= magnitude(cen);
      neg(4) <= cen(CEN_BITS - 1);
      cmn  <= shift_left(resize(cmag, RT_BITS), b_sh);
      half := (others => '0');
      half(RT_BITS - 1) := '1';
      if LUT_MUL then
        rl_parts <= mul_tree_first(signed('0' & cmn), signed('0' & b_r(RL_BITS - 1 downto 0)));
        rh_parts <= mul_tree_first(signed('0' & cmn), signed('0' & b_r(R_BITS - 1 downto RL_BITS)));
        rl_p     <= unsigned(mul_tree_second(rl_parts, RL_W)(RT_BITS + RL_BITS - 1 downto 0));
        rh_p     <= unsigned(mul_tree_second(rh_parts, RH_W)(RT_BITS + RH_BITS - 1 downto 0));
        umag     <= resize(shift_right(shift_left(resize(rh_p, RT_BITS + R_BITS), RL_BITS) + rl_p + half, RT_BITS), U_BITS);
      else
        rp_m <= cmn * b_r;
        rp_p <= rp_m;
        umag <= resize(shift_right(rp_p + half, RT_BITS), U_BITS);
      end if;
      if bv(7) = '1' then
        gain_q <= GAIN(gidx);
        off8   <= OFFSET(gidx);
        if gch = DM - 1 then
          gch  <= 0;
          gidx <= gbase;
        else
          gch  <= gch + 1;
          gidx <= gidx + 1;
        end if;
      end if;
      -- from here neg holds the sign of the product |u| * G
      neg(9) <= neg(8) xor gain_q(GB);
      off9  <= off8;
      off10 <= off9;
      if LUT_MUL then
        gp_parts <= mul_tree_first(signed('0' & umag), signed('0' & gain_q(GB - 1 downto 0)));
        gp_p     <= unsigned(mul_tree_second(gp_parts, GP_W)(U_BITS + GB - 1 downto 0));
      else
        gp_m <= umag * gain_q(GB - 1 downto 0);
        gp_p <= gp_m;
      end if;
      s11 <= signed_of(gp_p, neg(10)) + resize(off10, S_BITS);
      m12 <= magnitude(s11);
      neg(12) <= s11(S_BITS - 1);
      r13 <= round_half_up(m12, SHIFT);
      y_q <= signed_saturate(r13, neg(13), YB);
      if bv(BDEPTH - 1) = '1' then
        wr_en_q   <= '1';
        wr_addr_q <= wcount;
        if wcount = N - 1 then
          done   <= '1';
          wcount <= 0;
        else
          wcount <= wcount + 1;
        end if;
      end if;

      if rst = '1' then
        fstate <= F_IDLE;
        mstate <= M_IDLE;
        bstate <= B_IDLE;
        fv <= (others => '0');
        bv <= (others => '0');
        done <= '0';
        wr_en_q <= '0';
      else
        case fstate is
          when F_IDLE =>
            if start = '1' then
              frow <= 0; fbase <= 0; fc <= 0;
              fring <= 0; fwp <= 0; gch <= 0; wcount <= 0;
              if to_integer(job) < JOBS then
                job_q <= to_integer(job);
                gbase <= to_integer(job) * DM;
                gidx  <= to_integer(job) * DM;
              else
                job_q <= 0;
                gbase <= 0;
                gidx  <= 0;
              end if;
              sum <= (others => '0');
              sqsum <= (others => '0');
              fstate <= F_READ;
            end if;
          when F_READ =>
            rd_addr_q <= fbase + fc;
            fv(0) <= '1';
            if fc = DM - 1 then
              fwait <= 0;
              fstate <= F_WAIT;
            else
              fc <= fc + 1;
            end if;
          when F_WAIT =>
            -- Q is complete six clocks after the last address
            if fwait = 5 then
              fstate <= F_HOLD;
            else
              fwait <= fwait + 1;
            end if;
          when F_HOLD =>
            if mstate = M_IDLE then
              m_sum   <= sum;
              m_sqsum <= sqsum;
              m_smag  <= resize(magnitude(sum), SMAG_BITS);
              m_bits  <= resize(magnitude(sum), SMAG_BITS);
              m_ring  <= fring;
              sqacc   <= (others => '0');
              it      <= SMAG_BITS - 1;
              mstate  <= M_SQ;
              if frow = ROWS - 1 then
                fstate <= F_IDLE;
              else
                frow  <= frow + 1;
                fbase <= fbase + DM;
                if fring = RING_DEPTH - DM then fring <= 0; else fring <= fring + DM; end if;
                fc    <= 0;
                sum   <= (others => '0');
                sqsum <= (others => '0');
                fstate <= F_READ;
              end if;
            end if;
        end case;

        case mstate is
          when M_IDLE =>
            null;
          when M_SQ =>
            -- S^2, one bit of |S| per clock, most significant first
            if m_bits(SMAG_BITS - 1) = '1' then
              sqacc <= shift_left(sqacc, 1) + resize(m_smag, 2 * SMAG_BITS);
            else
              sqacc <= shift_left(sqacc, 1);
            end if;
            m_bits <= shift_left(m_bits, 1);
            if it = 0 then
              macc <= (others => '0');
              term <= 0;
              mstate <= M_DQ;
            else
              it <= it - 1;
            end if;
          when M_DQ =>
            -- DM * Q, one set bit of DM per clock
            macc <= macc + shift_left(resize(m_sqsum, 2 * RT_BITS), DM_POS(term));
            if term = DM_TERMS - 1 then
              mstate <= M_V;
            else
              term <= term + 1;
            end if;
          when M_V =>
            -- DM * Q - S^2 >= 0 (Cauchy-Schwarz)
            var_v <= resize(macc, T_BITS) - resize(sqacc, T_BITS);
            macc <= (others => '0');
            term <= 0;
            mstate <= M_DV;
          when M_DV =>
            macc <= macc + shift_left(resize(var_v, 2 * RT_BITS), DM_POS(term));
            if term = DM_TERMS - 1 then
              mstate <= M_RAD;
            else
              term <= term + 1;
            end if;
          when M_RAD =>
            rad   <= macc + EPS(job_q);
            rem_s <= (others => '0');
            root  <= (others => '0');
            it    <= RT_BITS - 1;
            mstate <= M_ROOT;
          when M_ROOT =>
            -- one root bit per clock from the top two bits of the radicand
            rs    := rem_s(RT_BITS + 1 downto 0) & rad(2 * RT_BITS - 1 downto 2 * RT_BITS - 2);
            trial := resize(root & "01", RT_BITS + 4);
            if rs >= trial then
              rem_s <= rs - trial;
              root  <= root(RT_BITS - 2 downto 0) & '1';
            else
              rem_s <= rs;
              root  <= root(RT_BITS - 2 downto 0) & '0';
            end if;
            rad <= shift_left(rad, 2);
            if it = 0 then
              mstate <= M_LZ;
            else
              it <= it - 1;
            end if;
          when M_LZ =>
            rr := root;
            if root = 0 then
              rr := to_unsigned(1, RT_BITS);
            end if;
            rn <= rr;
            sh <= leading_zeros(rr);
            mstate <= M_SH;
          when M_SH =>
            -- floor((2^(RT_BITS+16) - 1) / rn): rn >= 2^(RT_BITS-1), so the quotient has 17 bits and the
            -- division starts from the dividend's top RT_BITS - 1 bits, all ones like the rest
            rn    <= shift_left(rn, sh);
            drem  <= resize(shift_left(to_unsigned(1, RT_BITS), RT_BITS - 1) - 1, RT_BITS + 1);
            recip <= (others => '0');
            it    <= R_BITS - 1;
            mstate <= M_DIV;
          when M_DIV =>
            rd := drem(RT_BITS - 1 downto 0) & '1';
            if rd >= ('0' & rn) then
              drem  <= rd - ('0' & rn);
              recip <= recip(R_BITS - 2 downto 0) & '1';
            else
              drem  <= rd;
              recip <= recip(R_BITS - 2 downto 0) & '0';
            end if;
            if it = 0 then
              mstate <= M_HOLD;
            else
              it <= it - 1;
            end if;
          when M_HOLD =>
            if bstate = B_IDLE then
              b_sum  <= m_sum;
              b_ring <= m_ring;
              b_sh   <= sh;
              b_r    <= recip;
              bc     <= 0;
              bstate <= B_ISSUE;
              mstate <= M_IDLE;
            end if;
        end case;

        case bstate is
          when B_IDLE =>
            null;
          when B_ISSUE =>
            bra   <= b_ring + bc;
            bv(0) <= '1';
            if bc = DM - 1 then
              bdrain <= 0;
              bstate <= B_DRAIN;
            else
              bc <= bc + 1;
            end if;
          when B_DRAIN =>
            -- idle once the row's last value is written: b_sum, b_sh and b_r stay until then
            if bdrain = BDEPTH - 1 then
              bstate <= B_IDLE;
            else
              bdrain <= bdrain + 1;
            end if;
        end case;
      end if;
    end if;
  end process;
end architecture;
