-- TransformerFpga attention scores (ScoresLayer.Simulate):
--   s[h, i, j] = sat(round((sum_c q[i, h*DH + c] * k[j, h*DH + c]) * M0 * 2^-SHIFT))
-- LANES MACs work on the reduction: Q and K are column-banked buffers of LANES banks (column c in
-- bank c mod LANES, word row * DM / LANES + c / LANES, written so by their linear layers), so one
-- read of each gives LANES consecutive columns; the LANES products are summed into a register,
-- then added to the accumulator. Each output takes DH / LANES read cycles and outputs follow each
-- other without gaps: the multiply, round and write of output n overlap the MACs of output n + 1.
-- Cycles: HEADS * WIN * WIN * (DH / LANES) + 6
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
  constant P_BITS  : positive := ACC_BITS + M0_BITS;

  -- tfpga:multiplier-begin
  function mac_mul(a : signed; b : signed) return signed is
  begin
    return a * b;
  end function;
  -- tfpga:multiplier-end

  type state_t is (IDLE, RUN, FLUSH);
  signal state    : state_t := IDLE;
  -- issue side: word c of the head's columns, key j, query i, head h
  signal c        : natural range 0 to DHW := 0;
  signal j        : natural range 0 to WIN := 0;
  signal i        : natural range 0 to WIN := 0;
  signal h        : natural range 0 to HEADS := 0;
  signal hoff     : natural range 0 to DMW := 0;
  signal qbase    : natural range 0 to WIN * DMW := 0;
  signal kbase    : natural range 0 to WIN * DMW := 0;
  signal issue_v  : std_logic := '0';
  signal first_v  : std_logic := '0';
  signal last_v   : std_logic := '0';
  -- sum of the LANES products of one read
  signal ps_v     : std_logic := '0';
  signal ps_first : std_logic := '0';
  signal ps_last  : std_logic := '0';
  signal psum     : signed(ACC_BITS - 1 downto 0) := (others => '0');
  signal acc      : signed(ACC_BITS - 1 downto 0) := (others => '0');
  -- requantizer
  signal ld       : std_logic := '0';
  signal hold     : signed(ACC_BITS - 1 downto 0) := (others => '0');
  signal hv       : std_logic := '0';
  signal pv       : std_logic := '0';
  signal prod     : signed(P_BITS - 1 downto 0) := (others => '0');
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
    variable s : signed(ACC_BITS - 1 downto 0);
  begin
    if rising_edge(clk) then
      done    <= '0';
      issue_v <= '0';
      if state = RUN then
        issue_v <= '1';
        first_v <= '1' when c = 0 else '0';
        last_v  <= '1' when c = DHW - 1 else '0';
      end if;

      ps_v <= issue_v;
      if issue_v = '1' then
        s := (others => '0');
        for l in 0 to LANES - 1 loop
          s := s + resize(mac_mul(src0_rd_data((l + 1) * QB - 1 downto l * QB), src1_rd_data((l + 1) * KB - 1 downto l * KB)), ACC_BITS);
        end loop;
        psum     <= s;
        ps_first <= first_v;
        ps_last  <= last_v;
      end if;

      ld <= '0';
      if ps_v = '1' then
        if ps_first = '1' then
          acc <= psum;
        else
          acc <= acc + psum;
        end if;
        ld <= ps_last;
      end if;

      hv <= ld;
      if ld = '1' then
        hold <= acc;
      end if;
      pv <= hv;
      if hv = '1' then
        prod <= mac_mul(hold, M0);
      end if;
      rv <= pv;
      if pv = '1' then
        res <= saturate(round_shift(prod, SHIFT), YB);
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
        issue_v <= '0';
        ps_v    <= '0';
        ld      <= '0';
        hv      <= '0';
        pv      <= '0';
        rv      <= '0';
      end if;
    end if;
  end process;
end architecture;
