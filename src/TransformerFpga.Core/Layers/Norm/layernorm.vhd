-- TransformerFpga integer layer norm (LayerNormLayer.Simulate), per row of DM channels:
--   S = sum_c x_c,  D_c = DM * x_c - S,  r = max(1, floor(sqrt(sum_c D_c^2 + EPS))),
--   R = floor(2^K / r),  u_c = round(D_c * R * 2^-(K-16)),
--   y_c = sat(round((u_c * G[c] + B[c]) * 2^-SHIFT))
-- Per row: sum pass (DM + 1), square pass (DM + 2), load (1), digit-by-digit square root (RT_BITS),
-- restoring division (K + 1), output pass (DM + 5).
-- Cycles: ROWS * (3 * DM + RT_BITS + K + 10)
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
end entity;

architecture rtl of tfpga_layernorm is
  -- tfpga:constants-begin
  constant ROWS      : positive := 2;
  constant DM        : positive := 4;
  constant DM_BITS   : positive := 4;
  constant SUM_BITS  : positive := 11;
  constant CEN_BITS  : positive := 12;
  constant SQ_BITS   : positive := 24;
  constant RT_BITS   : positive := 13;
  constant EPS       : unsigned(2 * RT_BITS - 1 downto 0) := "00000000000000000000000011";
  constant K         : positive := 29;
  constant NORM_BITS : positive := 20;
  constant GB        : positive := 8;
  constant BB        : positive := 26;
  constant S_BITS    : positive := 30;
  constant SHIFT     : natural := 6;
  -- tfpga:constants-end
  constant YB : positive := wr_data'length;
  constant XB : positive := src0_rd_data'length;
  type gain_rom_t is array (0 to maximum(DM, 2) - 1) of signed(GB - 1 downto 0);
  type offset_rom_t is array (0 to maximum(DM, 2) - 1) of signed(BB - 1 downto 0);
  -- tfpga:rom-begin
  constant GAIN   : gain_rom_t := (0 => "01000000", 1 => "00110000", 2 => "01010000", 3 => "01000100");
  constant OFFSET : offset_rom_t := (0 => "00000000000000000000000000", 1 => "00000000010000000000000000",
    2 => "11111111110000000000000000", 3 => "00000000000000000000000000");
  -- tfpga:rom-end

  type state_t is (IDLE, SUMP, SUMD, SQP, SQD, LOAD, SQRT, DIV, OUTP, OUTD);
  signal state   : state_t := IDLE;
  signal c       : natural range 0 to DM := 0;
  signal row     : natural range 0 to ROWS := 0;
  signal rbase   : natural range 0 to ROWS * DM := 0;
  signal drain   : natural range 0 to 7 := 0;
  signal it      : natural range 0 to K + RT_BITS := 0;
  signal sum     : signed(SUM_BITS - 1 downto 0) := (others => '0');
  signal squares : unsigned(SQ_BITS - 1 downto 0) := (others => '0');
  signal v       : unsigned(2 * RT_BITS - 1 downto 0) := (others => '0');
  signal rem_s   : unsigned(RT_BITS + 3 downto 0) := (others => '0');
  signal root    : unsigned(RT_BITS - 1 downto 0) := (others => '0');
  signal rem_d   : unsigned(RT_BITS downto 0) := (others => '0');
  signal quo     : unsigned(K downto 0) := (others => '0');
  signal s1, q1, q2, o1, o2, o3, o4, o5 : std_logic := '0';
  signal ch1     : natural range 0 to DM := 0;
  signal a1, a2, a3, a4, a5 : natural range 0 to ROWS * DM := 0;
  signal cen_q   : signed(CEN_BITS - 1 downto 0) := (others => '0');
  signal g_q, g2_q : signed(GB - 1 downto 0) := (others => '0');
  signal b_q, b2_q : signed(BB - 1 downto 0) := (others => '0');
  signal nrm_q   : signed(NORM_BITS - 1 downto 0) := (others => '0');
  signal s_q     : signed(S_BITS - 1 downto 0) := (others => '0');
  signal y_q     : signed(YB - 1 downto 0) := (others => '0');
begin
  src0_rd_addr <= to_unsigned(rbase + c, src0_rd_addr'length);
  wr_en        <= o5;
  wr_addr      <= to_unsigned(a5, wr_addr'length);
  wr_data      <= y_q;

  process (clk)
    variable rs    : unsigned(RT_BITS + 3 downto 0);
    variable trial : unsigned(RT_BITS + 3 downto 0);
    variable rd    : unsigned(RT_BITS downto 0);
    variable dv    : unsigned(RT_BITS downto 0);
  begin
    if rising_edge(clk) then
      done <= '0';
      -- sum pass
      if s1 = '1' then
        sum <= sum + resize(src0_rd_data, SUM_BITS);
      end if;
      -- square pass and output pass: centered value D_c = DM * x_c - S
      if q1 = '1' or o1 = '1' then
        cen_q <= resize(src0_rd_data * to_signed(DM, DM_BITS), CEN_BITS) - resize(sum, CEN_BITS);
      end if;
      q2 <= q1;
      if q2 = '1' then
        -- a square is never negative, so the signed product reinterpreted as unsigned is exact
        -- (no abs(): GHDL's Verilog writer cannot express it)
        squares <= squares + resize(unsigned(cen_q * cen_q), SQ_BITS);
      end if;
      -- output pass pipeline
      o2 <= o1; o3 <= o2; o4 <= o3; o5 <= o4;
      a2 <= a1; a3 <= a2; a4 <= a3; a5 <= a4;
      if o1 = '1' then
        g_q <= GAIN(ch1);
        b_q <= OFFSET(ch1);
      end if;
      if o2 = '1' then
        nrm_q <= resize(round_shift(cen_q * signed('0' & quo), K - 16), NORM_BITS);
        g2_q  <= g_q;
        b2_q  <= b_q;
      end if;
      if o3 = '1' then
        s_q <= resize(nrm_q * g2_q, S_BITS) + resize(b2_q, S_BITS);
      end if;
      if o4 = '1' then
        y_q <= saturate(round_shift(s_q, SHIFT), YB);
      end if;
      s1 <= '0';
      q1 <= '0';
      o1 <= '0';
      ch1 <= c;
      a1 <= rbase + c;
      if rst = '1' then
        state <= IDLE;
        q2 <= '0'; o2 <= '0'; o3 <= '0'; o4 <= '0'; o5 <= '0';
      else
        case state is
          when IDLE =>
            if start = '1' then
              c <= 0; row <= 0; rbase <= 0;
              sum <= (others => '0');
              state <= SUMP;
            end if;
          when SUMP =>
            s1 <= '1';
            if c = DM - 1 then
              state <= SUMD;
            else
              c <= c + 1;
            end if;
          when SUMD =>
            c <= 0;
            squares <= (others => '0');
            state <= SQP;
          when SQP =>
            q1 <= '1';
            if c = DM - 1 then
              drain <= 0;
              state <= SQD;
            else
              c <= c + 1;
            end if;
          when SQD =>
            if drain = 1 then
              state <= LOAD;
            else
              drain <= drain + 1;
            end if;
          when LOAD =>
            v     <= resize(squares, 2 * RT_BITS) + EPS;
            rem_s <= (others => '0');
            root  <= (others => '0');
            it    <= RT_BITS - 1;
            state <= SQRT;
          when SQRT =>
            rs    := shift_left(rem_s, 2) + resize(v(2 * it + 1 downto 2 * it), RT_BITS + 4);
            trial := shift_left(resize(root, RT_BITS + 4), 2) + 1;
            if rs >= trial then
              rem_s <= rs - trial;
              root  <= shift_left(root, 1) + 1;
            else
              rem_s <= rs;
              root  <= shift_left(root, 1);
            end if;
            if it = 0 then
              rem_d <= (others => '0');
              quo   <= (others => '0');
              it    <= K;
              state <= DIV;
            else
              it <= it - 1;
            end if;
          when DIV =>
            if root = 0 then
              dv := to_unsigned(1, RT_BITS + 1);
            else
              dv := resize(root, RT_BITS + 1);
            end if;
            if it = K then
              rd := shift_left(rem_d, 1) + 1;
            else
              rd := shift_left(rem_d, 1);
            end if;
            if rd >= dv then
              rem_d <= rd - dv;
              quo   <= shift_left(quo, 1) + 1;
            else
              rem_d <= rd;
              quo   <= shift_left(quo, 1);
            end if;
            if it = 0 then
              c <= 0;
              state <= OUTP;
            else
              it <= it - 1;
            end if;
          when OUTP =>
            o1 <= '1';
            if c = DM - 1 then
              drain <= 0;
              state <= OUTD;
            else
              c <= c + 1;
            end if;
          when OUTD =>
            if drain = 4 then
              c <= 0;
              if row = ROWS - 1 then
                done  <= '1';
                state <= IDLE;
              else
                row   <= row + 1;
                rbase <= rbase + DM;
                sum   <= (others => '0');
                state <= SUMP;
              end if;
            else
              drain <= drain + 1;
            end if;
        end case;
      end if;
    end if;
  end process;
end architecture;
