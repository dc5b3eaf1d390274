-- TransformerFpga integer softmax (SoftmaxLayer.Simulate), per row of WIN scores:
--   e_j = EXP[(max - s_j) >> IDX_SHIFT] (0 past the table), R = floor(2^RECIP_BITS / sum_j e_j),
--   p_j = min(Q, (e_j * R * Q + 2^(RECIP_BITS-1)) >> RECIP_BITS), Q = 2^(YB-1) - 1.
-- Per row: max pass (WIN), exp-sum pass (WIN), drain of the sum (4), restoring division
-- (RECIP_BITS + 1), output pass (WIN); the next row's max pass starts while the output drains.
-- Every element flows through one-adder / one-lookup / one-product stages (edges after its address):
--   2 read data registered, 3 running max | max - s, 4 exp ROM, 5 sum | products e*RQ (RQ = R*Q
--   computed once per row by shift and subtract, split 24 + rest bits), 6 partial products added,
--   7 rounding, 8 clamp to Q; written next edge. Output rows start OUT_PITCH elements apart (an engine
--   reads them in whole words; the gap is never written, so it keeps the RAM's initial zeros).
-- Cycles: ROWS * (3 * WIN + RECIP_BITS + 5) + 8
library ieee;
use ieee.std_logic_1164.all;
use ieee.numeric_std.all;
use work.tfpga_pkg.all;

entity tfpga_softmax is
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
    wr_data      : out signed(3 downto 0)
    -- tfpga:ports-end
  );
end entity;

architecture rtl of tfpga_softmax is
  -- tfpga:constants-begin
  constant ROWS       : positive := 2;
  constant WIN        : positive := 4;
  constant EXP_LEN    : positive := 4;
  constant IDX_SHIFT  : natural := 0;
  constant RECIP_BITS : positive := 40;
  constant SUM_BITS   : positive := 18;
  constant R_BITS     : positive := 26;
  constant OUT_PITCH  : positive := 4;
  -- tfpga:constants-end
  constant XB : positive := src0_rd_data'length;
  constant YB : positive := wr_data'length;
  constant Q  : positive := 2 ** (YB - 1) - 1;
  constant RQ_BITS : positive := R_BITS + YB - 1;
  -- e * RQ as two products that each fit one DSP48E1 (16 x 24 and 16 x the rest, unsigned)
  constant LO_BITS : positive := 24;
  constant HI_BITS : positive := maximum(1, RQ_BITS - LO_BITS);
  constant U_BITS  : positive := 16 + LO_BITS + HI_BITS;
  constant PR_BITS : positive := U_BITS - RECIP_BITS + 2;
  constant N  : positive := ROWS * WIN;
  constant N_OUT : positive := (ROWS - 1) * OUT_PITCH + WIN;
  type exp_rom_t is array (0 to maximum(EXP_LEN, 2) - 1) of unsigned(15 downto 0);
  -- tfpga:rom-begin
  constant EXP_TABLE : exp_rom_t := (0 => "1000000000000000", 1 => "0100011000111000", 2 => "0001100110110100", 3 => "0000100101100111");
  -- tfpga:rom-end

  type state_t is (IDLE, MAXP, SUMP, SUMD, DIV, OUTP);
  signal state   : state_t := IDLE;
  -- The state machine is an if/elsif chain: GHDL's Verilog of a case over the state is a case without a
  -- default, which Yosys maps to latches.
  signal j       : natural range 0 to WIN - 1 := 0;
  signal row     : natural range 0 to ROWS - 1 := 0;
  signal rbase   : natural range 0 to N - 1 := 0;
  signal addr    : natural range 0 to N - 1 := 0;
  signal drain   : natural range 0 to 3 := 0;
  -- per-element flags, index = edges since the element's address
  signal max_v, max_first, max_last : std_logic_vector(1 to 2) := (others => '0');
  signal sum_v   : std_logic_vector(1 to 4) := (others => '0');
  signal out_v, out_last, out_end : std_logic_vector(1 to 8) := (others => '0');
  signal waddr   : natural range 0 to N_OUT - 1 := 0;
  signal x_q     : signed(XB - 1 downto 0) := (others => '0');
  signal mx_run  : signed(XB - 1 downto 0) := (others => '0');
  signal mx_row  : signed(XB - 1 downto 0) := (others => '0');
  signal diff_q  : unsigned(XB downto 0) := (others => '0');
  signal e_q     : unsigned(15 downto 0) := (others => '0');
  signal sum     : unsigned(SUM_BITS - 1 downto 0) := (others => '0');
  signal rem_r   : unsigned(SUM_BITS downto 0) := (others => '0');
  signal quo     : unsigned(RECIP_BITS downto 0) := (others => '0');
  signal dbit    : natural range 0 to RECIP_BITS := 0;
  signal rq      : unsigned(LO_BITS + HI_BITS - 1 downto 0) := (others => '0');
  signal pl      : unsigned(16 + LO_BITS - 1 downto 0) := (others => '0');
  signal ph      : unsigned(16 + HI_BITS - 1 downto 0) := (others => '0');
  signal u       : unsigned(U_BITS - 1 downto 0) := (others => '0');
  signal pr      : unsigned(PR_BITS - 1 downto 0) := (others => '0');
  signal p_q     : unsigned(YB - 2 downto 0) := (others => '0');
begin
  src0_rd_addr <= to_unsigned(addr, src0_rd_addr'length);
  wr_en        <= out_v(8);
  wr_addr      <= to_unsigned(waddr, wr_addr'length);
  wr_data      <= signed('0' & p_q);

  process (clk)
    variable mx_next : signed(XB - 1 downto 0);
    variable idx     : unsigned(XB downto 0);
    variable rnext   : unsigned(SUM_BITS downto 0);
    variable quo_r   : unsigned(LO_BITS + HI_BITS - 1 downto 0);
  begin
    if rising_edge(clk) then
      done <= '0';
      max_v     <= '0' & max_v(1);
      max_first <= '0' & max_first(1);
      max_last  <= '0' & max_last(1);
      sum_v     <= '0' & sum_v(1 to 3);
      out_v     <= '0' & out_v(1 to 7);
      out_last  <= '0' & out_last(1 to 7);
      out_end   <= '0' & out_end(1 to 7);
      -- 2: read data registered
      x_q <= src0_rd_data;
      -- 3: running max of the row (kept for the row's passes in mx_row), and max - s
      if max_v(2) = '1' then
        mx_next := mx_run;
        if max_first(2) = '1' or x_q > mx_run then
          mx_next := x_q;
        end if;
        mx_run <= mx_next;
        if max_last(2) = '1' then
          mx_row <= mx_next;
        end if;
      end if;
      diff_q <= unsigned(resize(mx_row, XB + 1) - resize(x_q, XB + 1));
      -- 4: exp ROM (0 past its end)
      idx := shift_right(diff_q, IDX_SHIFT);
      if idx < EXP_LEN then
        e_q <= EXP_TABLE(to_integer(idx));
      else
        e_q <= (others => '0');
      end if;
      -- 5: sum of the row, or the two partial products of e * R * Q
      if sum_v(4) = '1' then
        sum <= sum + resize(e_q, SUM_BITS);
      end if;
      pl <= e_q * rq(LO_BITS - 1 downto 0);
      ph <= e_q * rq(LO_BITS + HI_BITS - 1 downto LO_BITS);
      -- 6: partial products added
      u <= resize(pl, U_BITS) + shift_left(resize(ph, U_BITS), LO_BITS);
      -- 7: + 2^(RECIP_BITS-1), >> RECIP_BITS (only the bits from RECIP_BITS - 1 up take part)
      pr <= shift_right(resize(u(U_BITS - 1 downto RECIP_BITS - 1), PR_BITS) + 1, 1);
      -- 8: min(Q, p)
      if pr > Q then
        p_q <= to_unsigned(Q, YB - 1);
      else
        p_q <= resize(pr, YB - 1);
      end if;
      if out_v(8) = '1' and out_end(8) = '0' then
        if out_last(8) = '1' then
          waddr <= waddr + OUT_PITCH - WIN + 1;
        else
          waddr <= waddr + 1;
        end if;
      end if;
      done <= out_v(8) and out_end(8);
      -- R * Q = (R << (YB - 1)) - R, once quo holds R for the row's output pass
      quo_r := resize(quo, LO_BITS + HI_BITS);
      rq <= shift_left(quo_r, YB - 1) - quo_r;
      if rst = '1' then
        state <= IDLE;
        max_v <= (others => '0'); sum_v <= (others => '0'); out_v <= (others => '0'); done <= '0';
      else
        if state = IDLE then
          if start = '1' then
            j <= 0; row <= 0; rbase <= 0; addr <= 0; waddr <= 0;
            state <= MAXP;
          end if;
        elsif state = MAXP then
          max_v(1) <= '1';
          if j = 0 then max_first(1) <= '1'; end if;
          if j = WIN - 1 then
            max_last(1) <= '1';
            j <= 0;
            addr <= rbase;
            sum <= (others => '0');
            state <= SUMP;
          else
            j <= j + 1;
            addr <= addr + 1;
          end if;
        elsif state = SUMP then
          sum_v(1) <= '1';
          if j = WIN - 1 then
            j <= 0;
            drain <= 0;
            state <= SUMD;
          else
            j <= j + 1;
            addr <= addr + 1;
          end if;
        elsif state = SUMD then
          -- the last e_j reaches the sum 5 edges after its address
          if drain = 3 then
            rem_r <= (others => '0');
            quo   <= (others => '0');
            dbit  <= RECIP_BITS;
            state <= DIV;
          else
            drain <= drain + 1;
          end if;
        elsif state = DIV then
          if dbit = RECIP_BITS then
            rnext := shift_left(rem_r, 1) + 1;
          else
            rnext := shift_left(rem_r, 1);
          end if;
          if rnext >= resize(sum, SUM_BITS + 1) then
            rem_r <= rnext - resize(sum, SUM_BITS + 1);
            quo   <= shift_left(quo, 1) + 1;
          else
            rem_r <= rnext;
            quo   <= shift_left(quo, 1);
          end if;
          if dbit = 0 then
            j <= 0;
            addr <= rbase;
            state <= OUTP;
          else
            dbit <= dbit - 1;
          end if;
        elsif state = OUTP then
          out_v(1) <= '1';
          if j = WIN - 1 then
            out_last(1) <= '1';
            j <= 0;
            if row = ROWS - 1 then
              out_end(1) <= '1';
              state <= IDLE;
            else
              row   <= row + 1;
              rbase <= rbase + WIN;
              addr  <= rbase + WIN;
              state <= MAXP;
            end if;
          else
            j <= j + 1;
            addr <= addr + 1;
          end if;
        end if;
      end if;
    end if;
  end process;
end architecture;
