namespace TransformerFpga.Hdl;

/// <summary>
/// The <c>multiplier</c> and <c>entity-attributes</c> regions of the MAC templates (linear, scores,
/// context): <c>mac_mul</c> is "*" (synthesis maps it to DSP48E1) or <c>mul_shift_add</c> of
/// tfpga_pkg.vhd (LUTs and carry chains; Vivado is also told <c>use_dsp = "no"</c>).
/// </summary>
public static class Multipliers
{
    public static void Fill(VhdlTemplate template, bool lut)
    {
        template.SetRegion("multiplier", [
            "function mac_mul(a : signed; b : signed) return signed is",
            "begin",
            lut ? "  return mul_shift_add(a, b);" : "  return a * b;",
            "end function;",
        ]);
        template.SetRegion("entity-attributes", lut ? ["attribute use_dsp : string;", $"attribute use_dsp of {EntityOf(template)} : entity is \"no\";"] : []);
    }

    internal static string EntityOf(VhdlTemplate template) =>
        System.Text.RegularExpressions.Regex.Match(template.ToString(), @"^entity\s+(\w+)\s+is", System.Text.RegularExpressions.RegexOptions.Multiline).Groups[1].Value;
}
