-- TransformerFpga read-address multiplexer: a buffer read by several layers takes the address of
-- the layer whose sequencer step is active (STEPS(k) is the step of the k-th reader); 0 otherwise.
library ieee;
use ieee.std_logic_1164.all;
use ieee.numeric_std.all;

entity tfpga_rdmux is
  generic (
    N     : positive := 2;
    AW    : positive := 4;
    STEPS : integer_vector := (0, 1)
  );
  port (
    step     : in  natural;
    addr_in  : in  unsigned(N * AW - 1 downto 0);
    addr_out : out unsigned(AW - 1 downto 0)
  );
end entity;

architecture rtl of tfpga_rdmux is
begin
  process (step, addr_in)
    variable a : unsigned(AW - 1 downto 0);
  begin
    a := (others => '0');
    for k in 0 to N - 1 loop
      if STEPS(STEPS'low + k) = step then
        a := addr_in((N - k) * AW - 1 downto (N - 1 - k) * AW);
      end if;
    end loop;
    addr_out <= a;
  end process;
end architecture;
