using System.Diagnostics;

namespace TransformerFpga.Build.Tests;

/// <summary>
/// Once per test run: packs TransformerFpga.Build and TransformerFpga.Build.Sdk with a unique version
/// into a temporary feed (build output in a temporary artifacts folder, so the repository's bin/obj are
/// untouched) and writes a NuGet.config with its own global packages folder for the test projects.
/// </summary>
[TestClass]
public static class Packages
{
    private static string? _root;

    /// <summary>Temporary folder outside the repository; hardware projects are created below it.</summary>
    public static string Root => _root ?? throw new InvalidOperationException("packages not packed");
    public static string Version { get; private set; } = "";
    public static string RepoRoot { get; private set; } = "";

    [AssemblyInitialize]
    public static void Pack(TestContext _)
    {
        RepoRoot = FindRepoRoot();
        _root = Path.Combine(Path.GetTempPath(), "tfpga-build-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_root);
        Version = "0.1.0-test" + DateTime.UtcNow.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string feed = Path.Combine(_root, "feed");
        string artifacts = Path.Combine(_root, "artifacts");

        foreach (string project in new[] { "src/TransformerFpga.Build/TransformerFpga.Build.csproj", "sdk/TransformerFpga.Build.Sdk/TransformerFpga.Build.Sdk.csproj" })
        {
            var result = DotNet.Run(RepoRoot, TimeSpan.FromMinutes(5),
                "pack", Path.Combine(RepoRoot, project), "-c", "Release", "-o", feed, "--artifacts-path", artifacts,
                "-p:TransformerFpgaVersion=" + Version);
            if (result.ExitCode != 0)
                throw new InvalidOperationException($"dotnet pack {project} failed ({result.ExitCode}):\n{result.Output}");
        }
        foreach (string id in new[] { "TransformerFpga.Build", "TransformerFpga.Build.Sdk" })
        {
            string nupkg = Path.Combine(feed, $"{id}.{Version}.nupkg");
            if (!File.Exists(nupkg)) throw new InvalidOperationException("not packed: " + nupkg);
        }

        // Applies to every project below Root (the test projects live there, outside the repository,
        // so the repository's Directory.Build.props/NuGet.config do not leak into them).
        File.WriteAllText(Path.Combine(_root, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{Path.Combine(_root, "packages")}" />
              </config>
              <packageSources>
                <add key="tfpga-test-feed" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        // Stop any Directory.Build.* further up (e.g. in /tmp) from reaching the test projects.
        File.WriteAllText(Path.Combine(_root, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(_root, "Directory.Build.targets"), "<Project />");
    }

    [AssemblyCleanup]
    public static void Cleanup()
    {
        if (_root is null || Environment.GetEnvironmentVariable("TFPGA_KEEP_TEST_FILES") == "1") return;
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TransformerFpga.Build.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("cannot find TransformerFpga.Build.sln above " + AppContext.BaseDirectory);
    }
}

public sealed record DotNetResult(int ExitCode, string Output);

/// <summary>Runs the dotnet CLI without build servers or node reuse, with a clean MSBuild environment.</summary>
public static class DotNet
{
    public static DotNetResult Run(string workingDirectory, TimeSpan timeout, params string[] args) =>
        RunUntil(workingDirectory, timeout, null, null, null, args).Result;

    /// <summary>
    /// Runs dotnet and kills its whole process tree (SIGKILL: no cancellation, no cleanup) as soon as an
    /// output line satisfies <paramref name="killOnLine"/> or <paramref name="killWhen"/> (polled every
    /// millisecond) returns true. Killed is false when the process exited before the kill.
    /// <paramref name="started"/> gets the process id right after the start.
    /// </summary>
    public static (DotNetResult Result, bool Killed) RunUntil(string workingDirectory, TimeSpan timeout,
        Func<string, bool>? killOnLine, Func<bool>? killWhen, Action<int>? started, params string[] args)
    {
        using var process = new Process { StartInfo = StartInfo(workingDirectory, args) };
        var output = new System.Text.StringBuilder();
        var gate = new object();
        bool killed = false;
        void Kill()
        {
            lock (gate)
            {
                if (killed) return;
                try
                {
                    if (process.HasExited) return;
                    process.Kill(entireProcessTree: true);
                    killed = true;
                    output.AppendLine("[test] killed the dotnet process tree");
                }
                catch (InvalidOperationException) { }
            }
        }
        void OnLine(string? line)
        {
            if (line is null) return;
            lock (gate) output.AppendLine(line);
            if (killOnLine is not null && killOnLine(line)) Kill();
        }
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.Start();
        try { started?.Invoke(process.Id); }
        catch
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw;
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        if (killWhen is null)
        {
            if (!process.WaitForExit((int)timeout.TotalMilliseconds)) TimedOut();
        }
        else
        {
            while (!process.WaitForExit(1))
            {
                bool kill;
                try { kill = killWhen(); }
                catch
                {
                    // A failed check (an assertion) must not leave the build running.
                    try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                    throw;
                }
                if (kill) Kill();
                if (deadline.Elapsed > timeout) TimedOut();
            }
        }
        process.WaitForExit();
        lock (gate) return (new DotNetResult(process.ExitCode, output.ToString()), killed);

        void TimedOut()
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            lock (gate) throw new TimeoutException($"dotnet {string.Join(' ', args)} did not finish in {timeout}:\n{output}");
        }
    }

    private static ProcessStartInfo StartInfo(string workingDirectory, string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args) start.ArgumentList.Add(a);
        if (args.Length > 0 && args[0] is "build" or "pack" or "clean" or "msbuild")
        {
            start.ArgumentList.Add("-nodeReuse:false");
            start.ArgumentList.Add("--disable-build-servers");
            start.ArgumentList.Add("-tl:off");
            start.ArgumentList.Add("-nologo");
        }
        // The test host runs under MSBuild (dotnet test): do not pass its MSBuild settings on.
        foreach (string key in start.Environment.Keys.ToList())
        {
            if (key.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || key.StartsWith("_MSBuild", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase))
                start.Environment.Remove(key);
        }
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        start.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
        return start;
    }
}
