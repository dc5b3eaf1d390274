-- TransformerFpga top level: the layer sequencer, the layers and their buffers.
-- Layers run one after another: the sequencer pulses start of layer i + 1 one clock after layer i
-- pulses done. Cycles from the edge that samples start to the edge after which done is high:
-- sum over layers of (layer cycles + 2).
-- The input window is written through x_wr_* (row-major [window][feature]); after done the
-- outputs are read through y_rd_addr / y_rd_data (valid one clock after the address).
library ieee;
use ieee.std_logic_1164.all;
use ieee.numeric_std.all;

entity tfpga_top is
  port (
    clk       : in  std_logic;
    rst       : in  std_logic;
    start     : in  std_logic;
    busy      : out std_logic;
    done      : out std_logic;
    x_wr_en   : in  std_logic;
    -- tfpga:ports-begin
    x_wr_addr : in  std_logic_vector(3 downto 0);
    x_wr_data : in  std_logic_vector(7 downto 0);
    y_rd_addr : in  std_logic_vector(0 downto 0);
    y_rd_data : out std_logic_vector(7 downto 0)
    -- tfpga:ports-end
  );
end entity;

architecture rtl of tfpga_top is
  -- tfpga:constants-begin
  constant N_LAYERS : positive := 1;
  -- tfpga:constants-end
  signal step    : natural range 0 to N_LAYERS - 1 := 0;
  signal starts  : std_logic_vector(0 to N_LAYERS - 1) := (others => '0');
  signal dones   : std_logic_vector(0 to N_LAYERS - 1) := (others => '0');
  signal running : std_logic := '0';
  signal done_r  : std_logic := '0';
  -- tfpga:signals-begin
  -- tfpga:signals-end
begin
  busy <= running;
  done <= done_r;

  sequencer : process (clk)
  begin
    if rising_edge(clk) then
      starts <= (others => '0');
      done_r <= '0';
      if rst = '1' then
        running <= '0';
        step    <= 0;
      elsif running = '0' then
        if start = '1' then
          running   <= '1';
          step      <= 0;
          starts(0) <= '1';
        end if;
      elsif dones(step) = '1' then
        if step = N_LAYERS - 1 then
          running <= '0';
          done_r  <= '1';
        else
          step <= step + 1;
          starts(step + 1) <= '1';
        end if;
      end if;
    end if;
  end process;

  -- tfpga:instances-begin
  -- tfpga:instances-end
end architecture;
