using System.Diagnostics;
using System.Text;

namespace TransformerFpga.Hdl.Tests;

/// <summary>Runs GHDL and shell scripts; fails the test (never skips) when ghdl is missing.</summary>
internal static class Ghdl
{
    public static string Executable
    {
        get
        {
            string? path = Environment.GetEnvironmentVariable("PATH");
            foreach (string dir in (path ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                string candidate = Path.Combine(dir, "ghdl");
                if (File.Exists(candidate)) return candidate;
            }
            Assert.Fail("ghdl is not on PATH: the HDL tests need GHDL 2.0 or later (Debian/Ubuntu: apt-get install ghdl)");
            return "";
        }
    }

    public static (int ExitCode, string Output) Run(string file, string arguments, string workingDirectory, int timeoutSeconds = 600)
    {
        var info = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {arguments} timed out after {timeoutSeconds} s");
        }
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }
}

/// <summary>A temporary folder deleted when disposed.</summary>
internal sealed class TestFolder : IDisposable
{
    public TestFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tfpga-hdl-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string relative) => System.IO.Path.Combine(Path, relative);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
