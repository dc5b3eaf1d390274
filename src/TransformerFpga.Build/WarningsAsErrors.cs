using Microsoft.Build.Framework;
using TransformerFpga.Diagnostics;

namespace TransformerFpga.Build;

/// <summary>
/// Which of a generation's warnings MSBuild turns into errors. A task that logged only warnings counts as succeeded
/// for MSBuild while the build fails, so such a generation must not be recorded as a success. Known from the project's
/// MSBuild* properties, from the engine, and from the command line's -warnaserror as <see cref="FpgaWarningsAsErrorsProbe"/>
/// reads it in a project of its own.
/// </summary>
internal sealed class WarningsAsErrors(string treatAll, string asErrors, string notAsErrors, string asMessages, IEnumerable<string> commandLine, IBuildEngine? engine)
{
    private readonly bool _all = string.Equals(treatAll.Trim(), "true", StringComparison.OrdinalIgnoreCase);
    private readonly HashSet<string> _asErrors = Codes(asErrors);
    private readonly HashSet<string> _notAsErrors = Codes(notAsErrors);
    private readonly HashSet<string> _asMessages = Codes(asMessages);
    private readonly HashSet<string> _commandLine = commandLine.ToHashSet(StringComparer.OrdinalIgnoreCase);

    public bool AnyIsError(IEnumerable<FpgaDiagnostic> diagnostics) =>
        diagnostics.Any(d => d.Severity == Severity.Warning && IsError(d.Code));

    private bool IsError(string code) =>
        !_asMessages.Contains(code)
        && (((_all || _commandLine.Contains(code)) && !_notAsErrors.Contains(code)) || _asErrors.Contains(code)
            || (engine is IBuildEngine8 e && e.ShouldTreatWarningAsError(code)));

    private static HashSet<string> Codes(string list) =>
        list.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.OrdinalIgnoreCase);
}
