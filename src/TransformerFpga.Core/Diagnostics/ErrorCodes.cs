namespace TransformerFpga.Diagnostics;

/// <summary>Every diagnostic code the product emits. docs/errors.md lists the same codes.</summary>
public static class ErrorCodes
{
    public const string ModelFileMissing = "TFPGA001";
    public const string ModelJsonSyntax = "TFPGA002";
    public const string ModelJsonInvalid = "TFPGA003";
    public const string ModelFormatVersion = "TFPGA004";
    public const string WeightsFileMissing = "TFPGA005";
    public const string SafeTensorsMalformed = "TFPGA006";
    public const string TensorMissingOrShape = "TFPGA007";
    public const string TensorDtype = "TFPGA008";
    public const string TensorNotFinite = "TFPGA009";
    public const string DataFileMissing = "TFPGA010";
    public const string DataMalformed = "TFPGA011";
    public const string DataColumnMissing = "TFPGA012";
    public const string DataTooShort = "TFPGA013";
    public const string UnsupportedTensor = "TFPGA014";
    public const string ModelItemCount = "TFPGA020";
    public const string ItemMatchesNoLayer = "TFPGA021";
    public const string InvalidBits = "TFPGA022";
    public const string InvalidBufferResource = "TFPGA023";
    public const string InvalidLanes = "TFPGA024";
    public const string UnknownPart = "TFPGA025";
    public const string InvalidProperty = "TFPGA026";
    public const string PathOutsideProject = "TFPGA027";
    public const string ItemExpandedAsFileGlob = "TFPGA028";
    public const string UnknownItemMetadata = "TFPGA029";
    /// <summary>Raised by the targets, not the tasks: .NET Framework MSBuild older than 18.0 cannot run the .NET task assembly.</summary>
    public const string UnsupportedMSBuild = "TFPGA032";
    public const string OutputWriteFailed = "TFPGA030";
    public const string CalibrationReportMissing = "TFPGA040";
    public const string CalibrationReportMalformed = "TFPGA041";
    public const string CalibrationReportMismatch = "TFPGA042";
    public const string CalibrationFileMalformed = "TFPGA043";
    public const string PowerReportMissing = "TFPGA044";
    public const string PowerReportMalformed = "TFPGA045";
    public const string PowerReportMismatch = "TFPGA046";
    public const string PowerCalibrationFileMalformed = "TFPGA047";
    /// <summary>A warning: an item's setting changes none of the layers it selects.</summary>
    public const string SettingWithoutEffect = "TFPGA050";
    public const string FineTunedWeightsStale = "TFPGA051";
    public const string ConstraintsFileMissing = "TFPGA031";
    public const string InternalError = "TFPGA099";
    // TFPGA1nn: the budget gate (BudgetGate.Codes, 101–105) and the clock gate. TFPGA2nn: the design-space exploration (FpgaExplore).
    public const string ClockAboveFmax = "TFPGA106";
    public const string InvalidExploreOption = "TFPGA201";
    public const string ExploreNothingFits = "TFPGA202";
    public const string ExploreNothingWithinError = "TFPGA203";
    public const string ExploreCanceled = "TFPGA204";
    public const string FineTuneCanceled = "TFPGA205";

    /// <summary>Every code above, including the budget gate's.</summary>
    public static IReadOnlyList<string> All { get; } = typeof(ErrorCodes).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
        .Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!).Concat(Pipeline.BudgetGate.Codes.Values)
        .Distinct().Order(StringComparer.Ordinal).ToList();
}
