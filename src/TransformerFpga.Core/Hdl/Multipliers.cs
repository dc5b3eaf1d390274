namespace TransformerFpga.Hdl;

/// <summary>
/// The <c>multiplier</c> and <c>entity-attributes</c> regions of the MAC templates (linear, scores,
/// context): <c>LUT_MUL</c> false writes the products as registered "*" (Yosys packs the product
/// and P registers into DSP48E1 as MREG/PREG; the operand registers stay in the fabric), true as the two-stage adder tree of tfpga_pkg.vhd
/// (<c>mul_tree_first</c>/<c>mul_tree_second</c>: LUTs and carry chains, the same pipeline depth;
/// Vivado is also told <c>use_dsp = "no"</c>).
/// </summary>
public static class Multipliers
{
    public static void Fill(VhdlTemplate template, bool lut)
    {
        template.SetRegion("multiplier", [LutMultiplierConstant(lut)]);
        template.SetRegion("entity-attributes", lut ? ["attribute use_dsp : string;", $"attribute use_dsp of {EntityOf(template)} : entity is \"no\";"] : []);
    }

    /// <summary>
    /// Partial sums the LUT multiplier registers between its two stages (tfpga_pkg mul_tree_parts):
    /// <paramref name="selectBits"/> partial products rounded up to even, halved per level for the first
    /// ceil(levels / 2) of the tree's levels.
    /// </summary>
    public static int TreeParts(int selectBits)
    {
        int count = selectBits + selectBits % 2, levels = Quantization.IntegerMath.BitLength(count - 1);
        for (int l = 0; l < (levels + 1) / 2; l++) count = (count + 1) / 2;
        return count;
    }

    /// <summary>The line of the <c>multiplier</c> region that selects the mapping.</summary>
    public static string LutMultiplierConstant(bool lut) => $"constant LUT_MUL : boolean := {(lut ? "true" : "false")};";

    internal static string EntityOf(VhdlTemplate template) =>
        System.Text.RegularExpressions.Regex.Match(template.ToString(), @"^entity\s+(\w+)\s+is", System.Text.RegularExpressions.RegexOptions.Multiline).Groups[1].Value;
}
