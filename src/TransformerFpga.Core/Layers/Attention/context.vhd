-- TransformerFpga attention context (ContextLayer.Simulate):
--   y[i, h*DH + c] = sat(round((sum_j p[h, i, j] * v[j, h*DH + c]) * M0 * 2^-SHIFT))
-- LANES MACs compute LANES consecutive output columns of one query row i (a group): V is a
-- column-banked buffer of LANES banks (column c in bank c mod LANES, word j * DM / LANES +
-- c / LANES, written so by the V linear layer), so one read gives v[j, c .. c + LANES - 1], and
-- the probability p[h, i, j] is shared by all lanes. A group issues WIN reads; the next group
-- starts max(WIN, LANES) cycles later while the finished sums stream through one shared
-- requantizer (one lane per cycle) to the write port, in address order.
-- Cycles: (WIN * DM / LANES - 1) * max(WIN, LANES) + WIN + LANES + 4
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
  constant VB      : positive := src1_rd_data'length / LANES;
  constant PERIOD  : positive := maximum(WIN, LANES);
  constant N_WRITE : positive := WIN * DM;
  constant YB      : positive := wr_data'length;
  constant P_BITS  : positive := ACC_BITS + M0_BITS;

  -- tfpga:multiplier-begin
  function mac_mul(a : signed; b : signed) return signed is
  begin
    return a * b;
  end function;
  -- tfpga:multiplier-end

  type state_t is (IDLE, RUN, FLUSH);
  type acc_lanes_t is array (0 to LANES - 1) of signed(ACC_BITS - 1 downto 0);
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
  signal issue_v : std_logic := '0';
  signal first_v : std_logic := '0';
  signal last_v  : std_logic := '0';
  signal acc     : acc_lanes_t := (others => (others => '0'));
  -- requantizer stream
  signal ld      : std_logic := '0';
  signal hold    : acc_lanes_t := (others => (others => '0'));
  signal scnt    : natural range 0 to LANES := 0;
  signal pv      : std_logic := '0';
  signal prod    : signed(P_BITS - 1 downto 0) := (others => '0');
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
      done    <= '0';
      issue_v <= '0';
      if state = RUN and t < WIN then
        issue_v <= '1';
        first_v <= '1' when j = 0 else '0';
        last_v  <= '1' when j = WIN - 1 else '0';
      end if;

      ld <= '0';
      if issue_v = '1' then
        for l in 0 to LANES - 1 loop
          if first_v = '1' then
            acc(l) <= resize(mac_mul(src0_rd_data, src1_rd_data((l + 1) * VB - 1 downto l * VB)), ACC_BITS);
          else
            acc(l) <= acc(l) + resize(mac_mul(src0_rd_data, src1_rd_data((l + 1) * VB - 1 downto l * VB)), ACC_BITS);
          end if;
        end loop;
        ld <= last_v;
      end if;

      pv <= '0';
      if scnt > 0 then
        prod <= mac_mul(hold(0), M0);
        pv   <= '1';
        for l in 0 to LANES - 2 loop
          hold(l) <= hold(l + 1);
        end loop;
        scnt <= scnt - 1;
      end if;
      if ld = '1' then
        hold <= acc;
        scnt <= LANES;
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
        issue_v <= '0';
        ld      <= '0';
        scnt    <= 0;
        pv      <= '0';
        rv      <= '0';
      end if;
    end if;
  end process;
end architecture;
