-- TransformerFpga attention context (ContextLayer.Simulate):
--   y[i, h*DH + c] = sat(round((sum_j p[h, i, j] * v[j, h*DH + c]) * M0 * 2^-SHIFT))
-- LANES MACs compute LANES consecutive output columns of one query row i (a group): V is a
-- column-banked buffer of LANES banks (column c in bank c mod LANES, word j * DM / LANES +
-- c / LANES, written so by the V linear layer), so one read gives v[j, c .. c + LANES - 1], and
-- the probability p[h, i, j] is shared by all lanes. A group issues WIN reads; the next group
-- starts max(WIN, LANES) cycles later while the finished sums stream through one shared
-- requantizer (one lane per cycle) to the write port, in address order.
-- p is the softmax's unsigned probability (src0_rd_data holds its PB-bit pattern): the MACs take it
-- zero-extended ('0' & p, PB + 1 bits) into the signed product with v.
-- Every register-to-register path is one short step so that the layer meets 100 MHz: read data
-- registered (p_q, v_q) -> operand registers (for the DSP's A/B inputs, or the first half of the LUT
-- multiplier's adder tree) -> product (MREG, or the second half) -> product out (PREG) ->
-- accumulator -> hold ->
-- magnitude -> magnitude * M0 (MREG) -> P -> rounding -> saturation.
-- Cycles: (WIN * DM / LANES - 1) * max(WIN, LANES) + WIN + LANES + 11
library ieee;
use ieee.std_logic_1164.all;
use ieee.numeric_std.all;
use work.tfpga_pkg.all;

entity tfpga_context is
  port (
    clk          : in  std_logic;
    rst          : in  std_logic;
    start        : in  std_logic;
    done         : out std_logic;
    -- tfpga:ports-begin
    src0_rd_addr : out unsigned(2 downto 0);
    src0_rd_data : in  signed(7 downto 0);
    src1_rd_addr : out unsigned(2 downto 0);
    src1_rd_data : in  signed(15 downto 0);
    wr_en        : out std_logic;
    wr_addr      : out unsigned(2 downto 0);
    wr_data      : out signed(7 downto 0)
    -- tfpga:ports-end
  );
  -- tfpga:entity-attributes-begin
  -- tfpga:entity-attributes-end
end entity;

architecture rtl of tfpga_context is
  -- tfpga:constants-begin
  constant HEADS    : positive := 2;
  constant WIN      : positive := 2;
  constant DM       : positive := 4;
  constant DH       : positive := 2;
  constant LANES    : positive := 2;
  constant ACC_BITS : positive := 18;
  constant M0_BITS  : positive := 8;
  constant M0       : signed(M0_BITS - 1 downto 0) := "01000000";
  constant SHIFT    : natural := 9;
  -- tfpga:constants-end
  constant DMW     : positive := DM / LANES;
  constant DHW     : positive := DH / LANES;
  constant PB      : positive := src0_rd_data'length;
  constant PW      : positive := PB + 1;  -- p as a signed operand
  constant VB      : positive := src1_rd_data'length / LANES;
  constant PERIOD  : positive := maximum(WIN, LANES);
  constant N_WRITE : positive := WIN * DM;
  constant YB      : positive := wr_data'length;
  -- MAC product p * v
  constant MB      : positive := PW + VB;
  constant M_TREE  : positive := mul_tree_parts(VB);
  -- requantizer: |sum| (ACC_BITS bits hold 2^(ACC_BITS-1)) times the positive M0
  constant M0U_BITS : positive := maximum(M0_BITS - 1, 1);
  constant M0U      : unsigned(M0U_BITS - 1 downto 0) := resize(unsigned(M0), M0U_BITS);
  constant RB       : positive := ACC_BITS + M0U_BITS;
  constant Q_TREE   : positive := mul_tree_parts(M0U_BITS + 1);

  -- tfpga:multiplier-begin
  constant LUT_MUL : boolean := false;
  -- tfpga:multiplier-end

  type state_t is (IDLE, RUN, FLUSH);
  type acc_lanes_t is array (0 to LANES - 1) of signed(ACC_BITS - 1 downto 0);
  type p_lanes_t is array (0 to LANES - 1) of signed(PW - 1 downto 0);
  type v_lanes_t is array (0 to LANES - 1) of signed(VB - 1 downto 0);
  type part_lanes_t is array (0 to LANES - 1) of signed(M_TREE * MB - 1 downto 0);
  type prod_lanes_t is array (0 to LANES - 1) of signed(MB - 1 downto 0);
  signal state   : state_t := IDLE;
  -- issue side: slot t of the group's period, key j, column word cw (cc within the head), query i
  signal t       : natural range 0 to PERIOD := 0;
  signal j       : natural range 0 to WIN := 0;
  signal voff    : natural range 0 to WIN * DMW := 0;
  signal cw      : natural range 0 to DMW := 0;
  signal cc      : natural range 0 to DHW := 0;
  signal i       : natural range 0 to WIN := 0;
  signal ibase   : natural range 0 to WIN * WIN := 0;
  signal pbase   : natural range 0 to HEADS * WIN * WIN := 0;
  -- MAC pipeline: valid, first and last read of a group, per stage (0 issued, 1 read data,
  -- 2 operands, 3 products, 4 products out)
  signal m_valid : std_logic_vector(0 to 4) := (others => '0');
  signal m_first : std_logic_vector(0 to 4) := (others => '0');
  signal m_last  : std_logic_vector(0 to 4) := (others => '0');
  signal p_q     : unsigned(PB - 1 downto 0) := (others => '0');
  signal v_q     : signed(LANES * VB - 1 downto 0) := (others => '0');
  signal op_p    : p_lanes_t := (others => (others => '0'));
  signal op_v    : v_lanes_t := (others => (others => '0'));
  signal parts   : part_lanes_t := (others => (others => '0'));
  signal prod    : prod_lanes_t := (others => (others => '0'));
  signal prod_p  : prod_lanes_t := (others => (others => '0'));
  signal acc     : acc_lanes_t := (others => (others => '0'));
  -- requantizer stream
  signal ld      : std_logic := '0';
  signal hold    : acc_lanes_t := (others => (others => '0'));
  signal scnt    : natural range 0 to LANES := 0;
  -- stage valid and sign of the requantizer: 1 magnitude, 2 product, 3 P, 4 rounded
  signal q_valid : std_logic_vector(1 to 4) := (others => '0');
  signal q_neg   : std_logic_vector(1 to 4) := (others => '0');
  signal q_mag   : unsigned(ACC_BITS - 1 downto 0) := (others => '0');
  signal q_parts : signed(Q_TREE * (RB + 2) - 1 downto 0) := (others => '0');
  signal q_m     : unsigned(RB - 1 downto 0) := (others => '0');
  signal q_p     : unsigned(RB - 1 downto 0) := (others => '0');
  signal q_rnd   : unsigned(RB - 1 downto 0) := (others => '0');
  signal rv      : std_logic := '0';
  signal res     : signed(YB - 1 downto 0) := (others => '0');
  signal wcount  : natural range 0 to N_WRITE := 0;
begin
  src0_rd_addr <= to_unsigned(pbase + j, src0_rd_addr'length);
  src1_rd_addr <= to_unsigned(voff + cw, src1_rd_addr'length);
  wr_en        <= rv;
  wr_addr      <= to_unsigned(wcount, wr_addr'length);
  wr_data      <= res;

  process (clk)
  begin
    if rising_edge(clk) then
      done <= '0';
      m_valid(0) <= '0';
      if state = RUN and t < WIN then
        m_valid(0) <= '1';
        m_first(0) <= '1' when j = 0 else '0';
        m_last(0)  <= '1' when j = WIN - 1 else '0';
      end if;
      m_valid(1 to 4) <= m_valid(0 to 3);
      m_first(1 to 4) <= m_first(0 to 3);
      m_last(1 to 4)  <= m_last(0 to 3);

      -- stage 1: the read data of the reads issued one cycle ago
      p_q <= unsigned(src0_rd_data);
      v_q <= src1_rd_data;
      -- stage 2: operands (DSP) or the first half of the adder tree (LUT); stage 3: products
      for l in 0 to LANES - 1 loop
        if LUT_MUL then
          parts(l) <= mul_tree_first(signed('0' & p_q), v_q((l + 1) * VB - 1 downto l * VB));
          prod(l)  <= mul_tree_second(parts(l), MB);
        else
          op_p(l) <= signed('0' & p_q);
          op_v(l) <= v_q((l + 1) * VB - 1 downto l * VB);
          prod(l) <= op_p(l) * op_v(l);
        end if;
      end loop;
      -- stage 4: product out (the DSP's P register); stage 5: accumulate
      prod_p <= prod;
      ld <= '0';
      if m_valid(4) = '1' then
        for l in 0 to LANES - 1 loop
          if m_first(4) = '1' then
            acc(l) <= resize(prod_p(l), ACC_BITS);
          else
            acc(l) <= acc(l) + resize(prod_p(l), ACC_BITS);
          end if;
        end loop;
        ld <= m_last(4);
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
        q_p     <= unsigned(mul_tree_second(q_parts, RB + 2)(RB - 1 downto 0));
      else
        q_m <= q_mag * M0U;
        q_p <= q_m;
      end if;
      q_rnd <= round_half_up(q_p, SHIFT);
      rv    <= q_valid(4);
      if q_valid(4) = '1' then
        res <= signed_saturate(q_rnd, q_neg(4), YB);
      end if;

      if rv = '1' then
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
            t <= 0; j <= 0; voff <= 0; cw <= 0; cc <= 0; i <= 0; ibase <= 0; pbase <= 0; wcount <= 0;
            state <= RUN;
          end if;
        when RUN =>
          if j /= WIN - 1 and t < WIN then
            j <= j + 1; voff <= voff + DMW;
          end if;
          if cw = DMW - 1 and i = WIN - 1 and t = WIN - 1 then
            state <= FLUSH;
          elsif t = PERIOD - 1 then
            t <= 0; j <= 0; voff <= 0;
            if cw /= DMW - 1 then
              cw <= cw + 1;
              if cc = DHW - 1 then
                cc <= 0; pbase <= pbase + WIN * WIN;
              else
                cc <= cc + 1;
              end if;
            else
              cw <= 0; cc <= 0; i <= i + 1;
              ibase <= ibase + WIN; pbase <= ibase + WIN;
            end if;
          else
            t <= t + 1;
          end if;
        when FLUSH =>
          null;
      end case;

      if rst = '1' then
        state   <= IDLE;
        m_valid <= (others => '0');
        ld      <= '0';
        scnt    <= 0;
        q_valid <= (others => '0');
        rv      <= '0';
      end if;
    end if;
  end process;
end architecture;
