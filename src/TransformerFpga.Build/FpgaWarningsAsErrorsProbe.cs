using Microsoft.Build.Framework;
using TransformerFpga.Diagnostics;

namespace TransformerFpga.Build;

/// <summary>
/// The product's codes that the command line (-warnaserror, -warnaserror:codes) turns into errors. The targets run it
/// in a project of its own, without MSBuildWarningsAsErrors: in a project that sets that property, as every
/// Microsoft.NET.Sdk project does, MSBuild answers ShouldTreatWarningAsError as if -warnaserror had not been given,
/// while its logger still turns the warnings into errors (dotnet/msbuild#6306).
/// </summary>
public sealed class FpgaWarningsAsErrorsProbe : Microsoft.Build.Utilities.Task
{
    [Output] public string[] Codes { get; set; } = [];

    public override bool Execute()
    {
        Codes = BuildEngine is IBuildEngine8 engine ? ErrorCodes.All.Where(engine.ShouldTreatWarningAsError).ToArray() : [];
        return true;
    }
}
