namespace TransformerFpga.Diagnostics;

/// <summary>An input or configuration problem the user can fix; becomes a coded MSBuild diagnostic.</summary>
public sealed class FpgaException : Exception
{
    public FpgaException(string code, string? file, int line, string message)
        : base(message)
    {
        Code = code;
        File = file;
        Line = line;
    }

    public FpgaException(string code, string? file, string message) : this(code, file, 0, message) { }

    public FpgaException(string code, string? file, int line, int column, string message) : this(code, file, line, message) => Column = column;

    public string Code { get; }
    public string? File { get; }
    /// <summary>1-based line, 0 when unknown.</summary>
    public int Line { get; }
    /// <summary>1-based character column in the line, 0 when unknown.</summary>
    public int Column { get; }
}

public enum Severity { Error, Warning, Message }

/// <param name="Column">1-based character column in the line, 0 when unknown.</param>
public sealed record FpgaDiagnostic(Severity Severity, string Code, string? File, int Line, string Message, int Column = 0)
{
    public static FpgaDiagnostic From(FpgaException e) => new(Severity.Error, e.Code, e.File, e.Line, e.Message, e.Column);
}
