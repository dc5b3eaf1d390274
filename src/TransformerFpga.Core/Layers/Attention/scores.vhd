-- TransformerFpga attention scores (ScoresLayer.Simulate):
--   s[h, i, j] = sat(round((sum_c q[i, h*DH + c] * k[j, h*DH + c]) * M0 * 2^-SHIFT))
-- LANES MACs work on the reduction: Q and K are column-banked buffers of LANES banks (column c in
-- bank c mod LANES, word row * DM / LANES + c / LANES, written so by their linear layers), so one
-- read of each gives LANES consecutive columns; the LANES products are summed by a registered adder
-- tree (four sums per stage), then added to the accumulator. Each output takes DH / LANES read
-- cycles and outputs follow each other without gaps: the requantization and write of output n
-- overlap the MACs of output n + 1.
-- Every register-to-register path is one short step so that the layer meets 100 MHz: read data
-- registered (q_q, k_q) -> operand registers (for the DSP's A/B inputs, or the first half of the LUT
-- multiplier's adder tree) -> product (MREG, or the second half) -> product out (PREG) ->
-- TREE_STAGES sum stages ->
-- accumulator -> hold -> magnitude -> magnitude * M0 (MREG) -> P -> rounding -> saturation.
-- Cycles: HEADS * WIN * WIN * (DH / LANES) + 12 + TREE_STAGES
library ieee;
use ieee.std_logic_1164.all;
use ieee.numeric_std.all;
use work.tfpga_pkg.all;

entity tfpga_scores is
  port (
    clk          : in  std_logic;
    rst          : in  std_logic;
    start        : in  std_logic;
    done         : out std_logic;
    -- tfpga:ports-begin
    src0_rd_addr : out unsigned(2 downto 0);
    src0_rd_data : in  signed(15 downto 0);
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

architecture rtl of tfpga_scores is
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
  constant QB      : positive := src0_rd_data'length / LANES;
  constant KB      : positive := src1_rd_data'length / LANES;
  constant N_WRITE : positive := HEADS * WIN * WIN;
  constant YB      : positive := wr_data'length;
  -- MAC product q * k
  constant MB      : positive := QB + KB;
  constant M_TREE  : positive := mul_tree_parts(KB);
  -- registered stages of the sum over the lanes (tfpga_pkg)
  constant TREE_STAGES : natural := sum_stages(LANES);
  -- MAC stages: 0 issued, 1 read data, 2 operands, 3 products, 4 products out, 5 .. 4 + TREE_STAGES sums
  constant MAC_LAST : positive := 4 + TREE_STAGES;
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
  type sum_stages_t is array (1 to maximum(TREE_STAGES, 1)) of acc_lanes_t;
  type q_lanes_t is array (0 to LANES - 1) of signed(QB - 1 downto 0);
  type k_lanes_t is array (0 to LANES - 1) of signed(KB - 1 downto 0);
  type part_lanes_t is array (0 to LANES - 1) of signed(M_TREE * MB - 1 downto 0);
  type prod_lanes_t is array (0 to LANES - 1) of signed(MB - 1 downto 0);

  signal state    : state_t := IDLE;
  -- issue side: word c of the head's columns, key j, query i, head h
  signal c        : natural range 0 to DHW := 0;
  signal j        : natural range 0 to WIN := 0;
  signal i        : natural range 0 to WIN := 0;
  signal h        : natural range 0 to HEADS := 0;
  signal hoff     : natural range 0 to DMW := 0;
  signal qbase    : natural range 0 to WIN * DMW := 0;
  signal kbase    : natural range 0 to WIN * DMW := 0;
  -- MAC pipeline: valid, first and last read of an output, per stage
  signal m_valid  : std_logic_vector(0 to MAC_LAST) := (others => '0');
  signal m_first  : std_logic_vector(0 to MAC_LAST) := (others => '0');
  signal m_last   : std_logic_vector(0 to MAC_LAST) := (others => '0');
  signal q_q      : signed(LANES * QB - 1 downto 0) := (others => '0');
  signal k_q      : signed(LANES * KB - 1 downto 0) := (others => '0');
  signal op_q     : q_lanes_t := (others => (others => '0'));
  signal op_k     : k_lanes_t := (others => (others => '0'));
  signal parts    : part_lanes_t := (others => (others => '0'));
  signal prod     : prod_lanes_t := (others => (others => '0'));
  signal prod_p   : prod_lanes_t := (others => (others => '0'));
  signal sums     : sum_stages_t := (others => (others => (others => '0')));
  signal acc      : signed(ACC_BITS - 1 downto 0) := (others => '0');
  -- requantizer
  signal ld       : std_logic := '0';
  signal hold     : signed(ACC_BITS - 1 downto 0) := (others => '0');
  signal hv       : std_logic := '0';
  -- stage valid and sign of the requantizer: 1 magnitude, 2 product, 3 P, 4 rounded
  signal q_valid  : std_logic_vector(1 to 4) := (others => '0');
  signal q_neg    : std_logic_vector(1 to 4) := (others => '0');
  signal q_mag    : unsigned(ACC_BITS - 1 downto 0) := (others => '0');
  signal q_parts  : signed(Q_TREE * (RB + 2) - 1 downto 0) := (others => '0');
  signal q_m      : unsigned(RB - 1 downto 0) := (others => '0');
  signal q_p      : unsigned(RB - 1 downto 0) := (others => '0');
  signal q_rnd    : unsigned(RB - 1 downto 0) := (others => '0');
  signal rv       : std_logic := '0';
  signal res      : signed(YB - 1 downto 0) := (others => '0');
  signal wcount   : natural range 0 to N_WRITE := 0;
begin
  src0_rd_addr <= to_unsigned(qbase + c, src0_rd_addr'length);
  src1_rd_addr <= to_unsigned(kbase + c, src1_rd_addr'length);
  wr_en        <= rv;
  wr_addr      <= to_unsigned(wcount, wr_addr'length);
  wr_data      <= res;

  process (clk)
    variable total : signed(ACC_BITS - 1 downto 0);
    variable count : positive;
  begin
    if rising_edge(clk) then
      done <= '0';
      m_valid(0) <= '0';
      if state = RUN then
        m_valid(0) <= '1';
        m_first(0) <= '1' when c = 0 else '0';
        m_last(0)  <= '1' when c = DHW - 1 else '0';
      end if;
      m_valid(1 to MAC_LAST) <= m_valid(0 to MAC_LAST - 1);
      m_first(1 to MAC_LAST) <= m_first(0 to MAC_LAST - 1);
      m_last(1 to MAC_LAST)  <= m_last(0 to MAC_LAST - 1);

      -- stage 1: the read data of the reads issued one cycle ago
      q_q <= src0_rd_data;
      k_q <= src1_rd_data;
      -- stage 2: operands (DSP) or the first half of the adder tree (LUT); stage 3: products
      for l in 0 to LANES - 1 loop
        if LUT_MUL then
          parts(l) <= mul_tree_first(q_q((l + 1) * QB - 1 downto l * QB), k_q((l + 1) * KB - 1 downto l * KB));
          prod(l)  <= mul_tree_second(parts(l), MB);
        else
          op_q(l) <= q_q((l + 1) * QB - 1 downto l * QB);
          op_k(l) <= k_q((l + 1) * KB - 1 downto l * KB);
          prod(l) <= op_q(l) * op_k(l);
        end if;
      end loop;
      -- stage 4: products out (the DSP's P register); stages 5 ..: sums of four
      prod_p <= prod;
      count := LANES;
      for st in 1 to TREE_STAGES loop
        for n in 0 to LANES - 1 loop
          total := (others => '0');
          for e in 4 * n to 4 * n + 3 loop
            if e < count then
              if st = 1 then
                total := total + resize(prod_p(e), ACC_BITS);
              else
                total := total + sums(st - 1)(e);
              end if;
            end if;
          end loop;
          if n < (count + 3) / 4 then
            sums(st)(n) <= total;
          end if;
        end loop;
        count := (count + 3) / 4;
      end loop;
      if TREE_STAGES = 0 then
        total := resize(prod_p(0), ACC_BITS);
      else
        total := sums(maximum(TREE_STAGES, 1))(0);
      end if;
      -- accumulate
      ld <= '0';
      if m_valid(MAC_LAST) = '1' then
        if m_first(MAC_LAST) = '1' then
          acc <= total;
        else
          acc <= acc + total;
        end if;
        ld <= m_last(MAC_LAST);
      end if;

      -- requantizer
      hv <= ld;
      if ld = '1' then
        hold <= acc;
      end if;
      -- the magnitude register has no enable: its only load is the multiplier (AREG candidate)
      q_valid(1) <= hv;
      q_neg(1)   <= hold(ACC_BITS - 1);
      q_mag      <= magnitude(hold);
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
            c <= 0; j <= 0; i <= 0; h <= 0; hoff <= 0; qbase <= 0; kbase <= 0; wcount <= 0;
            state <= RUN;
          end if;
        when RUN =>
          if c /= DHW - 1 then
            c <= c + 1;
          else
            c <= 0;
            if j /= WIN - 1 then
              j <= j + 1; kbase <= kbase + DMW;
            elsif i /= WIN - 1 then
              j <= 0; i <= i + 1; qbase <= qbase + DMW; kbase <= hoff;
            elsif h /= HEADS - 1 then
              j <= 0; i <= 0; h <= h + 1; hoff <= hoff + DHW;
              qbase <= hoff + DHW; kbase <= hoff + DHW;
            else
              state <= FLUSH;
            end if;
          end if;
        when FLUSH =>
          null;
      end case;

      if rst = '1' then
        state   <= IDLE;
        m_valid <= (others => '0');
        ld      <= '0';
        hv      <= '0';
        q_valid <= (others => '0');
        rv      <= '0';
      end if;
    end if;
  end process;
end architecture;
