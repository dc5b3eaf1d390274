-- TransformerFpga integer softmax (SoftmaxLayer.Simulate), per row of WIN scores:
--   e_j = EXP[(max - s_j) >> IDX_SHIFT] (0 past the table), R = floor(2^RECIP_BITS / sum_j e_j),
--   p_j = min(Q, (e_j * R * Q + 2^(RECIP_BITS-1)) >> RECIP_BITS), Q = 2^(YB-1) - 1.
-- Per row: max pass (WIN + 1), exp-sum pass (WIN + 2), restoring division (RECIP_BITS + 1),
-- output pass recomputing e_j (WIN + 4).
-- Cycles: ROWS * (3 * WIN + RECIP_BITS + 8)
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
  -- tfpga:constants-end
  constant XB : positive := src0_rd_data'length;
  constant YB : positive := wr_data'length;
  constant Q  : positive := 2 ** (YB - 1) - 1;
  constant T_BITS : positive := 16 + R_BITS;
  constant U_BITS : positive := T_BITS + YB + 1;
  type exp_rom_t is array (0 to maximum(EXP_LEN, 2) - 1) of unsigned(15 downto 0);
  -- tfpga:rom-begin
  constant EXP_TABLE : exp_rom_t := (0 => "1000000000000000", 1 => "0100011000111000", 2 => "0001100110110100", 3 => "0000100101100111");
  -- tfpga:rom-end

  type state_t is (IDLE, MAXP, MAXD, SUMP, SUMD, DIV, OUTP, OUTD);
  signal state   : state_t := IDLE;
  signal j       : natural range 0 to WIN := 0;
  signal row     : natural range 0 to ROWS := 0;
  signal rbase   : natural range 0 to ROWS * WIN := 0;
  signal drain   : natural range 0 to 7 := 0;
  signal mx      : signed(XB - 1 downto 0) := (others => '0');
  signal sum     : unsigned(SUM_BITS - 1 downto 0) := (others => '0');
  signal rem_r   : unsigned(SUM_BITS downto 0) := (others => '0');
  signal quo     : unsigned(RECIP_BITS downto 0) := (others => '0');
  signal dbit    : natural range 0 to RECIP_BITS := 0;
  signal va, sb1, sb2, oc1, oc2, oc3, oc4 : std_logic := '0';
  signal a1, a2, a3, a4 : natural range 0 to ROWS * WIN := 0;
  signal e_q     : unsigned(15 downto 0) := (others => '0');
  signal t_q     : unsigned(T_BITS - 1 downto 0) := (others => '0');
  signal p_q     : unsigned(YB - 2 downto 0) := (others => '0');
begin
  src0_rd_addr <= to_unsigned(rbase + j, src0_rd_addr'length);
  wr_en        <= oc4;
  wr_addr      <= to_unsigned(a4, wr_addr'length);
  wr_data      <= signed('0' & p_q);

  process (clk)
    variable diff  : unsigned(XB downto 0);
    variable idx   : natural;
    variable rnext : unsigned(SUM_BITS downto 0);
    variable u     : unsigned(U_BITS - 1 downto 0);
  begin
    if rising_edge(clk) then
      done <= '0';
      -- data of the address issued last cycle is valid now
      if sb1 = '1' or oc1 = '1' then
        diff := unsigned(resize(mx, XB + 1) - resize(src0_rd_data, XB + 1));
        idx  := to_integer(shift_right(diff, IDX_SHIFT));
        if idx < EXP_LEN then
          e_q <= EXP_TABLE(idx);
        else
          e_q <= (others => '0');
        end if;
      end if;
      -- max pass
      if va = '1' and src0_rd_data > mx then
        mx <= src0_rd_data;
      end if;
      -- exp-sum pass
      sb2 <= sb1;
      if sb2 = '1' then
        sum <= sum + resize(e_q, SUM_BITS);
      end if;
      -- output pass
      oc2 <= oc1;
      oc3 <= oc2;
      oc4 <= oc3;
      a2  <= a1;
      a3  <= a2;
      a4  <= a3;
      if oc2 = '1' then
        t_q <= e_q * resize(quo, R_BITS);
      end if;
      if oc3 = '1' then
        u := resize(t_q * to_unsigned(Q, YB), U_BITS) + shift_left(to_unsigned(1, U_BITS), RECIP_BITS - 1);
        u := shift_right(u, RECIP_BITS);
        if u > Q then
          p_q <= to_unsigned(Q, YB - 1);
        else
          p_q <= resize(u, YB - 1);
        end if;
      end if;
      va  <= '0';
      sb1 <= '0';
      oc1 <= '0';
      a1  <= rbase + j;
      if rst = '1' then
        state <= IDLE;
        oc2 <= '0'; oc3 <= '0'; oc4 <= '0'; sb2 <= '0';
      else
        case state is
          when IDLE =>
            if start = '1' then
              j <= 0; row <= 0; rbase <= 0;
              mx <= (others => '0'); mx(XB - 1) <= '1';
              state <= MAXP;
            end if;
          when MAXP =>
            va <= '1';
            if j = WIN - 1 then
              state <= MAXD;
            else
              j <= j + 1;
            end if;
          when MAXD =>
            j <= 0;
            sum <= (others => '0');
            state <= SUMP;
          when SUMP =>
            sb1 <= '1';
            if j = WIN - 1 then
              drain <= 0;
              state <= SUMD;
            else
              j <= j + 1;
            end if;
          when SUMD =>
            if drain = 1 then
              rem_r <= (others => '0');
              quo   <= (others => '0');
              dbit  <= RECIP_BITS;
              state <= DIV;
            else
              drain <= drain + 1;
            end if;
          when DIV =>
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
              state <= OUTP;
            else
              dbit <= dbit - 1;
            end if;
          when OUTP =>
            oc1 <= '1';
            if j = WIN - 1 then
              drain <= 0;
              state <= OUTD;
            else
              j <= j + 1;
            end if;
          when OUTD =>
            if drain = 3 then
              j <= 0;
              if row = ROWS - 1 then
                done  <= '1';
                state <= IDLE;
              else
                row   <= row + 1;
                rbase <= rbase + WIN;
                mx <= (others => '0'); mx(XB - 1) <= '1';
                state <= MAXP;
              end if;
            else
              drain <= drain + 1;
            end if;
        end case;
      end if;
    end if;
  end process;
end architecture;
