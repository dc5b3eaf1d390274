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
  -- a * b (a'length + b'length bits, like numeric_std "*") built from shifts and adds over the
  -- bits of b, without "*": synthesis maps it to LUTs and carry chains, never to a DSP block.
  -- Layers whose Multiplier is Lut use it for their MAC and requantization products.
  function mul_shift_add(a : signed; b : signed) return signed;
  -- The pipelined requantizer's stages: |v| (v'length bits), then (m + 2^(n-1)) >> n, then the
  -- sign restored and clamped to bits; together saturate(round_shift(v, n), bits) one stage each.
  function magnitude(v : signed) return unsigned;
  function round_magnitude(m : unsigned; n : natural) return unsigned;
  function saturate_magnitude(m : unsigned; negative : std_logic; bits : positive) return signed;
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

  function mul_shift_add(a : signed; b : signed) return signed is
    constant WA : positive := a'length;
    constant WB : positive := b'length;
    variable av : signed(WA + WB - 1 downto 0) := resize(a, WA + WB);
    variable bv : std_logic_vector(WB - 1 downto 0);
    variable r  : signed(WA + WB - 1 downto 0) := (others => '0');
  begin
    bv := std_logic_vector(b);
    -- two's complement: b = -b(WB-1) * 2^(WB-1) + sum_i b(i) * 2^i; the sum is exact modulo
    -- 2^(WA+WB), which holds every product
    for i in 0 to WB - 2 loop
      if bv(i) = '1' then
        r := r + shift_left(av, i);
      end if;
    end loop;
    if bv(WB - 1) = '1' then
      r := r - shift_left(av, WB - 1);
    end if;
    return r;
  end function;

  function magnitude(v : signed) return unsigned is
    variable vv : signed(v'length - 1 downto 0) := v;
  begin
    if vv(vv'left) = '1' then
      return unsigned(-vv);  -- -(-2^(W-1)) wraps to 2^(W-1), its magnitude as unsigned
    end if;
    return unsigned(vv);
  end function;

  function round_magnitude(m : unsigned; n : natural) return unsigned is
    constant W : positive := m'length;
    variable mv : unsigned(W downto 0) := resize(m, W + 1);
    variable half : unsigned(W downto 0) := (others => '0');
  begin
    if n = 0 then
      return m;
    end if;
    if n > W then
      return to_unsigned(0, W);
    end if;
    half(n - 1) := '1';
    return resize(shift_right(mv + half, n), W);
  end function;

  function saturate_magnitude(m : unsigned; negative : std_logic; bits : positive) return signed is
    constant W : positive := m'length;
    constant LIMIT : natural := 2 ** (bits - 1);
    variable clamped : unsigned(bits - 1 downto 0);
  begin
    if negative = '1' then
      if m >= LIMIT then
        return to_signed(-LIMIT, bits);
      end if;
      clamped := resize(m, bits);
      return -signed(clamped);
    end if;
    if m >= LIMIT then
      return to_signed(LIMIT - 1, bits);
    end if;
    return signed(resize(m, bits));
  end function;
end package body;
