-- TransformerFpga layer buffer: simple dual-port RAM, synchronous read (rd_data is valid one clock
-- after rd_addr). One generic-free entity per buffer; the generator sets the entity name, the port
-- sizes, the depth and the ram_style ("block" or "distributed").
library ieee;
use ieee.std_logic_1164.all;
use ieee.numeric_std.all;

entity tfpga_buffer is
  port (
    clk     : in  std_logic;
    wr_en   : in  std_logic;
    -- tfpga:ports-begin
    wr_addr : in  unsigned(3 downto 0);
    wr_data : in  signed(7 downto 0);
    rd_addr : in  unsigned(3 downto 0);
    rd_data : out signed(7 downto 0)
    -- tfpga:ports-end
  );
end entity;

architecture rtl of tfpga_buffer is
  -- tfpga:constants-begin
  constant DEPTH : positive := 12;
  -- tfpga:constants-end
  constant MEM_DEPTH : positive := maximum(DEPTH, 2);
  type mem_t is array (0 to MEM_DEPTH - 1) of signed(wr_data'length - 1 downto 0);
  signal mem : mem_t := (others => (others => '0'));
  attribute ram_style : string;
  -- tfpga:attributes-begin
  attribute ram_style of mem : signal is "distributed";
  -- tfpga:attributes-end
begin
  process (clk)
  begin
    if rising_edge(clk) then
      if wr_en = '1' and to_integer(wr_addr) < DEPTH then
        mem(to_integer(wr_addr)) <= wr_data;
      end if;
      if to_integer(rd_addr) < DEPTH then
        rd_data <= mem(to_integer(rd_addr));
      end if;
    end if;
  end process;
end architecture;
