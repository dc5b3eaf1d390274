-- TransformerFpga shared arithmetic: the integer primitives of Quantization/IntegerMath.cs.
-- round_shift = IntegerMath.RoundShift (half away from zero), saturate = IntegerMath.Saturate.
library ieee;
use ieee.std_logic_1164.all;
use ieee.numeric_std.all;

package tfpga_pkg is
  -- p * 2^-n rounded half away from zero; same width as p (the result never needs more).
  function round_shift(p : signed; n : natural) return signed;
  -- Clamp v to the signed bits-wide range.
  function saturate(v : signed; bits : positive) return signed;
  -- max(0, v) when enabled.
  function relu(v : signed; enabled : boolean) return signed;

  -- Pipelined LUT multiplier (Multiplier = Lut): the partial products of a * b over the bits of b,
  -- summed by a balanced adder tree cut by one register: mul_tree_first sums the first half of the
  -- tree's levels and returns the remaining partial sums packed, part p in bits
  -- (p + 1) * W - 1 downto p * W with W = a'length + b'length; mul_tree_second sums them.
  -- mul_tree_second(mul_tree_first(a, b), W) = a * b (W bits, like numeric_std "*").
  -- Partial sums left after the first register (the width of its register is parts * W).
  function mul_tree_parts(b_bits : positive) return positive;
  function mul_tree_first(a : signed; b : signed) return signed;
  function mul_tree_second(parts : signed; w : positive) return signed;

  -- Registered stages of a MAC template's sum over n lanes, each adding up to four values (two adder
  -- levels): MacTiming.SumStages.
  function sum_stages(n : positive) return natural;

  -- |v| as an unsigned of v's width (which holds 2^(v'length-1)); written without "abs", which
  -- GHDL's Verilog output cannot express.
  function magnitude(v : signed) return unsigned;
  -- -v when negative = '1', else v; same width (wraps like "-"). Written as (v xor negative) + negative:
  -- one LUT per bit into the carry chain, where "-" and a select take an inverter and a multiplexer.
  function negate_when(v : signed; negative : std_logic) return signed;
  -- magnitude(v) formed by negate_when (the engine's form; the per-layer templates keep magnitude's, to which
  -- their resource coefficients are fitted).
  function magnitude_lut(v : signed) return unsigned;
  -- Requantizer stages on a magnitude: (m + 2^(n-1)) * 2^-n, i.e. round half up (half away from
  -- zero once the sign is restored); same width as m.
  function round_half_up(m : unsigned; n : natural) return unsigned;
  -- The sign restored on a rounded magnitude, clamped to the signed bits-wide range.
  function signed_saturate(m : unsigned; negative : std_logic; bits : positive) return signed;
end package;

package body tfpga_pkg is
  function round_shift(p : signed; n : natural) return signed is
    constant W : positive := p'length;
    variable pv : signed(W - 1 downto 0) := p;
    variable m : unsigned(W downto 0);
    variable half : unsigned(W downto 0) := (others => '0');
    variable r : signed(W downto 0);
  begin
    if n = 0 then
      return pv;
    end if;
    if n > W then
      -- |p| <= 2^(W-1) < 2^(n-1): rounds to zero
      return to_signed(0, W);
    end if;
    if pv(W - 1) = '1' then
      m := unsigned(-resize(pv, W + 1));
    else
      m := unsigned(resize(pv, W + 1));
    end if;
    half(n - 1) := '1';
    m := shift_right(m + half, n);
    r := signed(m);
    if pv(W - 1) = '1' then
      r := -r;
    end if;
    return resize(r, W);
  end function;

  function saturate(v : signed; bits : positive) return signed is
    constant W : positive := v'length;
    variable vv : signed(W - 1 downto 0) := v;
    variable hi, lo : signed(W - 1 downto 0);
  begin
    if W <= bits then
      return resize(vv, bits);
    end if;
    hi := (others => '0');
    hi(bits - 2 downto 0) := (others => '1');
    lo := (others => '1');
    lo(bits - 2 downto 0) := (others => '0');
    if vv > hi then
      return resize(hi, bits);
    elsif vv < lo then
      return resize(lo, bits);
    end if;
    return resize(vv, bits);
  end function;

  function relu(v : signed; enabled : boolean) return signed is
    variable vv : signed(v'length - 1 downto 0) := v;
  begin
    if enabled and vv(vv'left) = '1' then
      return to_signed(0, vv'length);
    end if;
    return vv;
  end function;

  -- Number of partial products: b's bits rounded up to even (an odd-width b is sign-extended by
  -- one bit) so that the negative weight of b's sign bit is always the subtrahend of a pair.
  function mul_tree_terms(b_bits : positive) return positive is
  begin
    return b_bits + (b_bits mod 2);
  end function;

  function mul_tree_parts(b_bits : positive) return positive is
    variable count : positive := mul_tree_terms(b_bits);
    variable levels : natural := 0;
  begin
    while 2 ** levels < count loop
      levels := levels + 1;
    end loop;
    -- the first register comes after ceil(levels / 2) levels
    for l in 1 to (levels + 1) / 2 loop
      count := (count + 1) / 2;
    end loop;
    return count;
  end function;

  function mul_tree_first(a : signed; b : signed) return signed is
    constant W : positive := a'length + b'length;
    constant TERMS : positive := mul_tree_terms(b'length);
    constant PARTS : positive := mul_tree_parts(b'length);
    type terms_t is array (0 to TERMS - 1) of signed(W - 1 downto 0);
    variable av : signed(W - 1 downto 0) := resize(a, W);
    variable bv : signed(TERMS - 1 downto 0) := resize(b, TERMS);
    variable t : terms_t := (others => (others => '0'));
    variable count : positive := TERMS / 2;
    variable packed : signed(PARTS * W - 1 downto 0);
  begin
    -- first level: pairs of partial products; the last pair subtracts b's sign-bit term
    for i in 0 to TERMS / 2 - 1 loop
      if bv(2 * i) = '1' then
        t(i) := shift_left(av, 2 * i);
      end if;
      if bv(2 * i + 1) = '1' then
        if 2 * i + 1 = TERMS - 1 then
          t(i) := t(i) - shift_left(av, 2 * i + 1);
        else
          t(i) := t(i) + shift_left(av, 2 * i + 1);
        end if;
      end if;
    end loop;
    -- further levels: neighbours pairwise until PARTS sums are left
    while count > PARTS loop
      for i in 0 to TERMS / 2 - 1 loop
        if 2 * i + 1 < count then
          t(i) := t(2 * i) + t(2 * i + 1);
        elsif 2 * i < count then
          t(i) := t(2 * i);
        end if;
      end loop;
      count := (count + 1) / 2;
    end loop;
    for p in 0 to PARTS - 1 loop
      packed((p + 1) * W - 1 downto p * W) := t(p);
    end loop;
    return packed;
  end function;

  function mul_tree_second(parts : signed; w : positive) return signed is
    constant PARTS_N : positive := parts'length / w;
    type sums_t is array (0 to PARTS_N - 1) of signed(w - 1 downto 0);
    variable pv : signed(parts'length - 1 downto 0) := parts;
    variable t : sums_t;
    variable count : positive := PARTS_N;
  begin
    for p in 0 to PARTS_N - 1 loop
      t(p) := pv((p + 1) * w - 1 downto p * w);
    end loop;
    while count > 1 loop
      for i in 0 to PARTS_N - 1 loop
        if 2 * i + 1 < count then
          t(i) := t(2 * i) + t(2 * i + 1);
        elsif 2 * i < count then
          t(i) := t(2 * i);
        end if;
      end loop;
      count := (count + 1) / 2;
    end loop;
    return t(0);
  end function;

  function sum_stages(n : positive) return natural is
    variable count : positive := n;
    variable stages : natural := 0;
  begin
    while count > 1 loop
      count := (count + 3) / 4;
      stages := stages + 1;
    end loop;
    return stages;
  end function;

  function magnitude(v : signed) return unsigned is
    variable wide : signed(v'length downto 0) := resize(v, v'length + 1);
  begin
    if wide(wide'left) = '1' then
      wide := -wide;
    end if;
    return unsigned(wide(v'length - 1 downto 0));
  end function;

  function negate_when(v : signed; negative : std_logic) return signed is
    variable flipped : signed(v'length - 1 downto 0) := v;
    variable carry : signed(v'length - 1 downto 0) := (others => '0');
  begin
    for i in flipped'range loop
      flipped(i) := flipped(i) xor negative;
    end loop;
    carry(0) := negative;
    return flipped + carry;
  end function;

  function magnitude_lut(v : signed) return unsigned is
    variable vv : signed(v'length - 1 downto 0) := v;
  begin
    return unsigned(negate_when(vv, vv(vv'left)));
  end function;

  function round_half_up(m : unsigned; n : natural) return unsigned is
    constant W : positive := m'length;
    variable mv : unsigned(W downto 0) := resize(m, W + 1);
    variable half : unsigned(W downto 0) := (others => '0');
  begin
    if n = 0 then
      return m;
    end if;
    if n > W then
      -- m < 2^W <= 2^(n-1): rounds to zero
      return to_unsigned(0, W);
    end if;
    half(n - 1) := '1';
    return resize(shift_right(mv + half, n), W);
  end function;

  function signed_saturate(m : unsigned; negative : std_logic; bits : positive) return signed is
    constant W : positive := maximum(m'length, bits) + 1;
    variable mv : unsigned(W - 1 downto 0) := resize(m, W);
    variable limit : unsigned(W - 1 downto 0) := to_unsigned(0, W);
  begin
    limit(bits - 1) := '1';
    if negative = '1' then
      -- down to -2^(bits-1)
      if mv > limit then
        mv := limit;
      end if;
      return resize(-signed(mv), bits);
    end if;
    limit := limit - 1;
    if mv > limit then
      mv := limit;
    end if;
    return resize(signed(mv), bits);
  end function;
end package body;
