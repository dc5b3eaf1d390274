-- TransformerFpga integer softmax (SoftmaxLayer.Simulate), per row of WIN scores:
--   e_j = EXP[(max - s_j) >> IDX_SHIFT] (0 past the table), R = floor(2^RECIP_BITS / sum_j e_j),
--   p_j = min(Q, (e_j * R * Q + 2^(RECIP_BITS-1)) >> RECIP_BITS), Q = 2^YB - 1.
-- p_j is unsigned (0 .. Q): wr_data carries its YB-bit pattern (the readers zero-extend it).
-- Two units work on consecutive rows in slots of SLOT_LEN cycles: in slot s the front reads row s twice
-- (max pass, then exp-sum pass, keeping each e_j in one half of a small e buffer) while the back divides
-- for row s - 1 (restoring division, two quotient bits per cycle) and then reads that row's e_j from the
-- other half of the buffer into the products. Slot 0 has no back, slot ROWS no front.
-- Every element flows through one-adder / one-lookup / one-product stages (edges after its address):
--   front: 2 read data registered, 3 running max | max - s, 4 exp ROM, 5 sum and e buffer write;
--   back: 1 e buffer read, 2 products e*RQ (RQ = R*Q by shift and subtract once per row, split 24 + rest
--   bits), 3 partial products added, 4 rounding, 5 clamp to Q; written next edge.
-- Output rows start OUT_PITCH elements apart (an engine reads them in whole words; the gap is never
-- written, so it keeps the RAM's initial zeros).
-- Cycles: ROWS * SLOT_LEN + DIV_STEPS + WIN + 5, SLOT_LEN = max(2 * WIN + 5, DIV_STEPS + WIN)
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
  constant Q  : positive := 2 ** YB - 1;
  constant RQ_BITS : positive := R_BITS + YB;
  -- e * RQ as two products that each fit one DSP48E1 (16 x 24 and 16 x the rest, unsigned)
  constant LO_BITS : positive := 24;
  constant HI_BITS : positive := maximum(1, RQ_BITS - LO_BITS);
  constant U_BITS  : positive := 16 + LO_BITS + HI_BITS;
  constant PR_BITS : positive := U_BITS - RECIP_BITS + 2;
  constant N  : positive := ROWS * WIN;
  constant N_OUT : positive := (ROWS - 1) * OUT_PITCH + WIN;
  -- the dividend 2^RECIP_BITS, two bits per division step (a leading 0 when RECIP_BITS + 1 is odd)
  constant DIV_STEPS : positive := (RECIP_BITS + 2) / 2;
  constant SLOT_LEN  : positive := maximum(2 * WIN + 5, DIV_STEPS + WIN);
  type exp_rom_t is array (0 to maximum(EXP_LEN, 2) - 1) of unsigned(15 downto 0);
  -- tfpga:rom-begin
  constant EXP_TABLE : exp_rom_t := (0 => "1000000000000000", 1 => "0100011000111000", 2 => "0001100110110100", 3 => "0000100101100111");
  -- tfpga:rom-end
  -- e_j of two rows: the front's in one half, the back's in the other
  type e_buf_t is array (0 to 2 * WIN - 1) of unsigned(15 downto 0);
  signal e_buf : e_buf_t := (others => (others => '0'));

  signal running : std_logic := '0';
  signal t       : natural range 0 to SLOT_LEN - 1 := 0;
  signal slot    : natural range 0 to ROWS := 0;
  signal half    : natural range 0 to 1 := 0;  -- the front's half of the e buffer
  signal rbase   : natural range 0 to N - 1 := 0;
  signal addr    : natural range 0 to N - 1 := 0;
  signal e_waddr : natural range 0 to 2 * WIN - 1 := 0;
  signal e_raddr : natural range 0 to 2 * WIN - 1 := 0;
  -- per-element flags, index = edges since the element's address
  signal max_v, max_first, max_last : std_logic_vector(1 to 2) := (others => '0');
  signal sum_v   : std_logic_vector(1 to 4) := (others => '0');
  signal out_v, out_last, out_end : std_logic_vector(1 to 5) := (others => '0');
  signal waddr   : natural range 0 to N_OUT - 1 := 0;
  signal x_q     : signed(XB - 1 downto 0) := (others => '0');
  signal mx_run  : signed(XB - 1 downto 0) := (others => '0');
  signal mx_row  : signed(XB - 1 downto 0) := (others => '0');
  signal diff_q  : unsigned(XB downto 0) := (others => '0');
  signal e_q     : unsigned(15 downto 0) := (others => '0');
  signal sum     : unsigned(SUM_BITS - 1 downto 0) := (others => '0');
  signal sum_row : unsigned(SUM_BITS - 1 downto 0) := (others => '0');
  signal rem_r   : unsigned(SUM_BITS downto 0) := (others => '0');
  signal quo     : unsigned(2 * DIV_STEPS - 1 downto 0) := (others => '0');
  signal eb_q    : unsigned(15 downto 0) := (others => '0');
  signal rq      : unsigned(LO_BITS + HI_BITS - 1 downto 0) := (others => '0');
  signal pl      : unsigned(16 + LO_BITS - 1 downto 0) := (others => '0');
  signal ph      : unsigned(16 + HI_BITS - 1 downto 0) := (others => '0');
  signal u       : unsigned(U_BITS - 1 downto 0) := (others => '0');
  signal pr      : unsigned(PR_BITS - 1 downto 0) := (others => '0');
  signal p_q     : unsigned(YB - 1 downto 0) := (others => '0');
begin
  src0_rd_addr <= to_unsigned(addr, src0_rd_addr'length);
  wr_en        <= out_v(5);
  wr_addr      <= to_unsigned(waddr, wr_addr'length);
  wr_data      <= signed(p_q);  -- the unsigned probability's bit pattern

  process (clk)
    variable mx_next : signed(XB - 1 downto 0);
    variable idx     : unsigned(XB downto 0);
    variable r1, r2  : unsigned(SUM_BITS downto 0);
    variable q1      : unsigned(2 * DIV_STEPS - 1 downto 0);
    variable quo_r   : unsigned(LO_BITS + HI_BITS - 1 downto 0);
    variable front, back : boolean;
  begin
    if rising_edge(clk) then
      done <= '0';
      max_v     <= '0' & max_v(1);
      max_first <= '0' & max_first(1);
      max_last  <= '0' & max_last(1);
      sum_v     <= '0' & sum_v(1 to 3);
      out_v     <= '0' & out_v(1 to 4);
      out_last  <= '0' & out_last(1 to 4);
      out_end   <= '0' & out_end(1 to 4);

      -- front 2: read data registered
      x_q <= src0_rd_data;
      -- front 3: running max of the row (kept for the exp-sum pass in mx_row), and max - s
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
      -- front 4: exp ROM (0 past its end)
      idx := shift_right(diff_q, IDX_SHIFT);
      if idx < EXP_LEN then
        e_q <= EXP_TABLE(to_integer(idx));
      else
        e_q <= (others => '0');
      end if;
      -- front 5: the row's sum, and e_j into the front's half of the e buffer
      if sum_v(4) = '1' then
        sum <= sum + resize(e_q, SUM_BITS);
        e_buf(e_waddr) <= e_q;
        if e_waddr /= 2 * WIN - 1 then
          e_waddr <= e_waddr + 1;
        end if;
      end if;

      -- back 1: e buffer read; 2: the two partial products of e * R * Q; 3: added. Stages 2-5 load only while
      -- an element is in them (clock enables: the products' DSP48E1 and the wide adders idle between rows).
      eb_q <= e_buf(e_raddr);
      if out_v(1) = '1' then
        pl <= eb_q * rq(LO_BITS - 1 downto 0);
        ph <= eb_q * rq(LO_BITS + HI_BITS - 1 downto LO_BITS);
      end if;
      if out_v(2) = '1' then
        u <= resize(pl, U_BITS) + shift_left(resize(ph, U_BITS), LO_BITS);
      end if;
      -- back 4: + 2^(RECIP_BITS-1), >> RECIP_BITS (only the bits from RECIP_BITS - 1 up take part)
      if out_v(3) = '1' then
        pr <= shift_right(resize(u(U_BITS - 1 downto RECIP_BITS - 1), PR_BITS) + 1, 1);
      end if;
      -- back 5: min(Q, p)
      if out_v(4) = '1' then
        if pr > Q then
          p_q <= to_unsigned(Q, YB);
        else
          p_q <= resize(pr, YB);
        end if;
      end if;
      if out_v(5) = '1' and out_end(5) = '0' then
        if out_last(5) = '1' then
          waddr <= waddr + OUT_PITCH - WIN + 1;
        else
          waddr <= waddr + 1;
        end if;
      end if;
      done <= out_v(5) and out_end(5);

      front := running = '1' and slot < ROWS;
      back  := running = '1' and slot > 0;
      -- front: the max pass reads the row in cycles 0 .. WIN - 1 of the slot, the exp-sum pass in WIN .. 2 WIN - 1
      if front then
        if t < WIN then
          max_v(1) <= '1';
          if t = 0 then max_first(1) <= '1'; end if;
          if t = WIN - 1 then max_last(1) <= '1'; end if;
        elsif t < 2 * WIN then
          sum_v(1) <= '1';
        end if;
        if t = WIN - 1 then
          addr <= rbase;
        elsif t < 2 * WIN - 1 then
          addr <= addr + 1;
        end if;
        if t = WIN then
          sum <= (others => '0');
          e_waddr <= half * WIN;
        end if;
      end if;
      -- back: two restoring-division steps per cycle in cycles 0 .. DIV_STEPS - 1, R * Q = (R << YB) - R
      -- next, then the row's e_j read in cycles DIV_STEPS .. DIV_STEPS + WIN - 1
      if back then
        if t < DIV_STEPS then
          -- a shifted value's lowest bit is 0: the dividend's one bit and each quotient bit are set, not
          -- added, so that no carry chain precedes the compare-subtract
          r1 := shift_left(rem_r, 1);
          if 2 * (DIV_STEPS - 1 - t) + 1 = RECIP_BITS then r1(0) := '1'; end if;
          q1 := shift_left(quo, 1);
          if r1 >= resize(sum_row, SUM_BITS + 1) then
            r1 := r1 - resize(sum_row, SUM_BITS + 1);
            q1(0) := '1';
          end if;
          r2 := shift_left(r1, 1);
          if 2 * (DIV_STEPS - 1 - t) = RECIP_BITS then r2(0) := '1'; end if;
          q1 := shift_left(q1, 1);
          if r2 >= resize(sum_row, SUM_BITS + 1) then
            r2 := r2 - resize(sum_row, SUM_BITS + 1);
            q1(0) := '1';
          end if;
          rem_r <= r2;
          quo   <= q1;
        end if;
        if t = DIV_STEPS then
          quo_r := resize(quo, LO_BITS + HI_BITS);
          rq <= shift_left(quo_r, YB) - quo_r;
        end if;
        if t >= DIV_STEPS and t < DIV_STEPS + WIN then
          out_v(1) <= '1';
          if t = DIV_STEPS + WIN - 1 then
            out_last(1) <= '1';
            if slot = ROWS then out_end(1) <= '1'; end if;
          end if;
          if t /= DIV_STEPS + WIN - 1 then
            e_raddr <= e_raddr + 1;
          end if;
        end if;
      end if;

      if rst = '1' then
        running <= '0';
        max_v <= (others => '0'); sum_v <= (others => '0'); out_v <= (others => '0'); done <= '0';
      elsif running = '0' then
        if start = '1' then
          running <= '1';
          t <= 0; slot <= 0; half <= 0;
          rbase <= 0; addr <= 0; waddr <= 0;
        end if;
      elsif slot = ROWS and t = DIV_STEPS + WIN - 1 then
        running <= '0';
      elsif t = SLOT_LEN - 1 then
        -- next slot: the front moves to the next row and the other half of the e buffer, the back takes over
        -- the row the front finished (its sum, its half)
        t <= 0;
        slot <= slot + 1;
        half <= 1 - half;
        if slot < ROWS - 1 then
          rbase <= rbase + WIN;
          addr  <= rbase + WIN;
        end if;
        sum_row <= sum;
        rem_r <= (others => '0');
        quo   <= (others => '0');
        e_raddr <= half * WIN;
      else
        t <= t + 1;
      end if;
    end if;
  end process;
end architecture;
