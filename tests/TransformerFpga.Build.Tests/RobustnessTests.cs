using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using static TransformerFpga.Build.Tests.EndToEndTests;

namespace TransformerFpga.Build.Tests;

/// <summary>
/// Builds that are parallel, fail, are killed, or carry hostile names: outputs stay
/// deterministic, a failed or killed build never leaves a torn or half-written design behind, and
/// user text never reaches VHDL, scripts or file names unescaped.
/// </summary>
[TestClass]
public sealed class RobustnessTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    private static readonly string Items = """
        <LayerPrecision Include="encoder0.ffn.%2A" WeightBits="6" ActivationBits="8" />
        <LayerPrecision Include="head" WeightBits="8" />
        """;

    /// <summary>Output folders that a failed build must leave untouched (everything but report/).</summary>
    private static readonly string[] DesignFolders = ["hdl", "yosys", "vivado"];

    public TestContext TestContext { get; set; } = null!;

    // ---- 1. parallel builds are deterministic ----

    [TestMethod]
    public void ParallelSolutionBuildEqualsOneByOneBuilds()
    {
        string root = Path.Combine(Packages.Root, "projects", "parallel");
        string solution = Path.Combine(root, "solution");
        var projects = new[]
        {
            new HardwareProject(Consumption.ProjectSdk, "alpha", new ModelShape { Seed = 101, ModelName = "alpha" }, solution),
            new HardwareProject(Consumption.PackageReference, "beta", new ModelShape { Seed = 202, ModelName = "beta", Window = 6 }, solution),
            new HardwareProject(Consumption.ProjectSdk, "gamma", new ModelShape { Seed = 303, ModelName = "gamma", DModel = 4 }, solution),
        };
        foreach (var p in projects) p.WriteProject(Items);
        var copies = projects.Select(p => p.CopyTo(Path.Combine(root, "one-by-one"))).ToArray();
        string slnx = Path.Combine(solution, "hardware.slnx");
        File.WriteAllText(slnx, "<Solution>\n"
            + string.Concat(projects.Select(p => $"  <Project Path=\"{Path.GetRelativePath(solution, p.ProjectFile).Replace('\\', '/')}\" />\n"))
            + "</Solution>\n");

        var parallel = DotNet.Run(solution, Timeout, "build", slnx, "-m:3");
        AssertSucceeded(parallel);
        foreach (var copy in copies) AssertSucceeded(copy.Build());

        var trees = new List<SortedDictionary<string, byte[]>>();
        for (int i = 0; i < projects.Length; i++)
        {
            var inParallel = Snapshot(projects[i].OutputDir);
            var alone = Snapshot(copies[i].OutputDir);
            Assert.IsTrue(inParallel.ContainsKey("report/simulation.json"), $"{projects[i].ProjectFile}: no report/simulation.json after the solution build:\n{parallel.Output}");
            AssertSameTree(alone, inParallel, $"{Path.GetFileName(projects[i].ProjectFile)}: solution build with -m:3 vs a build on its own");
            trees.Add(inParallel);
        }
        // Guard against a vacuous comparison: the three projects do produce different designs.
        Assert.AreNotEqual(Digest(trees[0]), Digest(trees[1]));
        Assert.AreNotEqual(Digest(trees[1]), Digest(trees[2]));
    }

    // ---- 2. a failed build keeps the previous design ----

    [TestMethod]
    public void FailedBuildKeepsPreviousDesignOutputs()
    {
        // One datapath per layer: the lanes check below is of a layer's own lanes (the engine's layers take the engine's).
        const string Layers = "<FpgaArchitecture>Layers</FpgaArchitecture>";
        var project = new HardwareProject(Consumption.ProjectSdk, "keepfailed").WriteProject(Items, properties: Layers);
        AssertSucceeded(project.Build());
        var first = Snapshot(project.OutputDir);
        var design = DesignOutputs(project.OutputDir);
        Assert.IsTrue(design.Count > 0, "the build wrote no output besides report/: " + string.Join(", ", first.Keys));
        var designTimes = design.Keys.ToDictionary(k => k, k => File.GetLastWriteTimeUtc(Path.Combine(project.OutputDir, k)));
        byte[] weights = File.ReadAllBytes(project.Weights);

        // Invalid item metadata (checked before anything is computed).
        project.WriteProject(Items + """<LayerPrecision Include="encoder0.attn.q" WeightBits="eight" />""", properties: Layers);
        AssertFailedWith(project.Build(), "TFPGA022", project.ProjectFile);
        AssertUntouched("WeightBits=\"eight\"");

        // Corrupt weights: the header is intact, the tensor data is cut short.
        project.WriteProject(Items, properties: Layers);
        File.WriteAllBytes(project.Weights, weights[..(weights.Length - 64)]);
        AssertFailedWith(project.Build(), "TFPGA006", project.Weights, project.ModelJson);
        AssertUntouched("truncated weights");

        // Lanes that do not divide a layer (checked after quantization, before outputs are written).
        File.WriteAllBytes(project.Weights, weights);
        project.WriteProject(Items + """<LayerParallelism Include="head" Lanes="3" />""", properties: Layers);
        AssertFailedWith(project.Build(), "TFPGA024", project.ProjectFile);
        AssertUntouched("Lanes=3 on a 1-output layer");

        // A budget the design cannot meet (1 % of the part), as an error (the test projects make overruns
        // warnings): fails with TFPGA1nn after report/ is written; the design folders must stay as they were.
        project.WriteProject(Items, properties: Layers);
        var budget = project.Build("-p:FpgaUtilizationLimitPercent=1", "-p:FpgaBudgetAsWarning=false");
        Assert.AreNotEqual(0, budget.ExitCode, "a design over a 1 % budget built:\n" + budget.Output);
        AssertNoStackTrace(budget.Output);
        StringAssert.Matches(budget.Output, new Regex(@"error TFPGA1[0-9][0-9]:"), "a failed over-budget build without a TFPGA1nn error");
        AssertUntouched("a 1 % utilization limit");

        // Fixed again: the build succeeds and writes what the first build wrote.
        project.WriteProject(Items, properties: Layers);
        AssertSucceeded(project.Build());
        AssertSameTree(first, Snapshot(project.OutputDir), "rebuild after the failures vs the first build");

        void AssertUntouched(string breakage)
        {
            var now = DesignOutputs(project.OutputDir);
            AssertSameTree(design, now, $"design outputs after a build failed on {breakage}");
            foreach (var (path, time) in designTimes)
                Assert.AreEqual(time, File.GetLastWriteTimeUtc(Path.Combine(project.OutputDir, path)), $"{path} was rewritten by a build that failed on {breakage}");
        }
    }

    // ---- 3. a killed build leaves every file either old or new ----

    [TestMethod]
    public void KilledBuildLeavesEveryFileOldOrNewAndTheNextBuildRepairs()
    {
        // Larger than the default model: FpgaGenerate runs for a few seconds and writes ~50 files. Its simulation of the
        // test windows comes between the progress line the kills wait for and the first write, so enough of them leave
        // time to find the task host on a loaded machine (300 and then 1,500 rows were too few: the build finished first).
        var shape = new ModelShape { Window = 24, DModel = 32, Ffn = 128, CalibrationRows = 1500, TestRows = 5000, ModelName = "big" };
        var project = new HardwareProject(Consumption.ProjectSdk, "killed", shape).WriteProject();
        // A large part, and overruns as warnings: this test is about writing files, not about fitting a
        // budget (an overrun also makes the build search for a fix, which takes time).
        string[] a = ["-p:FpgaDefaultWeightBits=8", "-p:FpgaPart=xc7a100tcsg324-1", "-p:FpgaBudgetAsWarning=true", "-v:n"];
        string[] b = ["-p:FpgaDefaultWeightBits=6", "-p:FpgaPart=xc7a100tcsg324-1", "-p:FpgaBudgetAsWarning=true", "-v:n"];

        var clock = Stopwatch.StartNew();
        AssertSucceeded(project.Build(a));
        var versionA = Snapshot(project.OutputDir);
        TestContext.WriteLine($"first build: {clock.Elapsed.TotalSeconds:F1} s, {versionA.Count} files");
        AssertSucceeded(project.Build([.. b, "--no-restore"]));
        var versionB = Snapshot(project.OutputDir);
        var differing = versionA.Keys.Where(k => versionB.TryGetValue(k, out var v) && !v.AsSpan().SequenceEqual(versionA[k])).ToList();
        Assert.IsTrue(differing.Count(k => !k.StartsWith("report/", StringComparison.Ordinal)) > 0, "6- and 8-bit weights give the same design; the test could not tell old from new");

        // Kill points, from early to late. Each attempt builds the version that is not (mostly) on disk,
        // so that the kill lands between two different versions; wherever it lands (before, during or
        // after the writes), every file must be whole: the old version or the new one.
        string outDir = project.OutputDir, hdl = Path.Combine(outDir, "hdl");
        var outcomes = new List<string>();
        // when(pid): polled once the process that runs FpgaGenerate is known (every task runs in a task host,
        // a child of `dotnet build`, and the writer names its temporary files <file>.tmp-<that pid>; older
        // ones may be left by earlier kills). generatorFound(toA, pid) runs first, at that moment: after
        // FpgaGenerate's first progress line, about a second before it writes anything.
        (bool Killed, int Temporaries) Attempt(string what, Func<string, bool>? onLine, Func<int, bool>? when, Action<bool, int>? generatorFound = null)
        {
            int buildPid = 0, generatorPid = 0;
            using var simulating = new ManualResetEventSlim();
            var onDisk = Snapshot(outDir);
            bool toA = versionA.Count(f => onDisk.TryGetValue(f.Key, out var d) && d.AsSpan().SequenceEqual(f.Value))
                <= versionB.Count(f => onDisk.TryGetValue(f.Key, out var d) && d.AsSpan().SequenceEqual(f.Value));
            bool Line(string line)
            {
                if (GenerationProgress.IsMatch(line)) simulating.Set();
                return onLine is not null && onLine(line);
            }
            bool KillWhen()
            {
                if (generatorPid == 0)
                {
                    if (!simulating.IsSet) return false;
                    generatorPid = TaskHostProcess(buildPid);
                    if (generatorPid == 0) return false;
                    generatorFound?.Invoke(toA, generatorPid);
                }
                return when!(generatorPid);
            }
            var (result, killed) = DotNet.RunUntil(project.Directory, Timeout, Line, when is null ? null : KillWhen,
                id => buildPid = id, ["build", project.ProjectFile, .. toA ? a : b, "--no-restore"]);
            if (!killed) AssertSucceeded(result);
            if (when is not null) Assert.AreNotEqual(0, generatorPid, $"{what}: found no task host below the build process {buildPid} once FpgaGenerate was simulating:\n{result.Output}");
            var (temporaries, onlyA, onlyB) = AssertEveryFileOldOrNew(outDir, versionA, versionB, $"after a kill {what}");
            outcomes.Add($"{what} (building {(toA ? "8" : "6")}-bit): {(killed ? "killed" : "finished first")}; now {onlyA} file(s) 8-bit only, {onlyB} 6-bit only, {temporaries} temporary");
            return (killed, temporaries);
        }

        Attempt("while simulating", l => l.Contains("simulating", StringComparison.Ordinal), null);
        Attempt("when VHDL generation starts", l => l.Contains("generating VHDL", StringComparison.Ordinal), null);

        if (OperatingSystem.IsLinux())
        {
            // Deterministically in the middle of writing hdl/: the temporary file of the last hdl/ file that
            // changes is a FIFO, so the build blocks opening it after staging the others (the writer names
            // temporaries <file>.tmp-<pid of the task host that runs FpgaGenerate>).
            // The kill comes once the build has staged another temporary file; hdl/ must still be entirely
            // the old version.
            var before = Snapshot(outDir);
            string? fifo = null;
            var deadline = Stopwatch.StartNew();
            var (killed, temporaries) = Attempt("while hdl/ is being staged (FIFO)", null,
                pid => HasTemporaryFile(hdl, pid, fifo) || deadline.Elapsed > TimeSpan.FromSeconds(90),
                (toA, pid) =>
                {
                    var target = toA ? versionA : versionB;
                    var changing = target.Keys.Where(k => k.StartsWith("hdl/", StringComparison.Ordinal)
                        && !(before.TryGetValue(k, out var d) && d.AsSpan().SequenceEqual(target[k]))).ToList();
                    Assert.IsTrue(changing.Count >= 2, "fewer than two hdl/ files change between the versions: " + string.Join(", ", changing));
                    fifo = Path.Combine(outDir, changing[^1]) + ".tmp-" + pid.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    Assert.AreEqual(0, MkFifo(fifo, 0x180), "mkfifo " + fifo);
                });
            Assert.IsTrue(killed, "the build did not block on the FIFO at its temporary file; does the writer still name temporaries <file>.tmp-<pid>?");
            Assert.IsTrue(deadline.Elapsed < TimeSpan.FromSeconds(90), "the build staged no temporary file before the FIFO");
            Assert.IsTrue(temporaries >= 2, "the kill did not land while hdl/ was being staged");
            var after = Snapshot(outDir);
            foreach (var (path, bytes) in before.Where(f => f.Key.StartsWith("hdl/", StringComparison.Ordinal)))
                Assert.IsTrue(after.TryGetValue(path, out var now) && now.AsSpan().SequenceEqual(bytes), $"{path} changed although the build was killed before hdl/ was committed");
        }
        Attempt("at the first temporary file in hdl/", null, pid => HasTemporaryFile(hdl, pid, null));
        TestContext.WriteLine(string.Join("\n", outcomes));

        // The next build repairs: it runs again (the kill left no success stamp), removes stale
        // temporary files and writes exactly what a fresh build wrote.
        var repaired = project.Build([.. a, "--no-restore"]);
        AssertSucceeded(repaired);
        AssertSameTree(versionA, Snapshot(outDir), "build after the kills vs a fresh build");
    }

    /// <summary>FpgaGenerate's first progress line (FpgaExplore's "explore: simulating …" is another task).</summary>
    private static readonly Regex GenerationProgress = new(@"(?<!explore: )\bsimulating [0-9]+ test windows");

    /// <summary>
    /// The task host (an MSBuild process in /nodemode:2) below <paramref name="buildPid"/> that started last,
    /// or 0 if there is none. The targets run one after another, so while FpgaGenerate runs, the newest
    /// task host is the one that runs it. Linux only (reads /proc).
    /// </summary>
    private static int TaskHostProcess(int buildPid)
    {
        var children = new Dictionary<int, List<int>>();
        var started = new Dictionary<int, long>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid)) continue;
            string stat;
            try { stat = File.ReadAllText(Path.Combine(dir, "stat")); }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            // pid (comm) state ppid … starttime: the command name may hold spaces and ')', so split after the last ')'.
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            int parent = int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
            started[pid] = long.Parse(fields[19], System.Globalization.CultureInfo.InvariantCulture);
            if (!children.TryGetValue(parent, out var list)) children[parent] = list = [];
            list.Add(pid);
        }
        int newest = 0;
        var pending = new Stack<int>([buildPid]);
        while (pending.Count > 0)
        {
            int pid = pending.Pop();
            foreach (int child in children.GetValueOrDefault(pid) ?? [])
            {
                pending.Push(child);
                string commandLine;
                try { commandLine = File.ReadAllText($"/proc/{child}/cmdline"); }
                catch (IOException) { continue; }
                catch (UnauthorizedAccessException) { continue; }
                if (commandLine.Split('\0').Any(arg => arg.Equals("/nodemode:2", StringComparison.OrdinalIgnoreCase) || arg.Equals("-nodemode:2", StringComparison.OrdinalIgnoreCase))
                    && (newest == 0 || started[child] > started[newest]))
                    newest = child;
            }
        }
        return newest;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MkFifo(string path, uint mode);

    /// <summary>Whether process <paramref name="pid"/> has a temporary file (other than <paramref name="except"/>) below <paramref name="directory"/>.</summary>
    private static bool HasTemporaryFile(string directory, int pid, string? except)
    {
        try
        {
            string pattern = "*.tmp-" + pid.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Directory.Exists(directory) && Directory.EnumerateFiles(directory, pattern, SearchOption.AllDirectories).Any(f => f != except);
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    private static bool IsTemporary(string path) => Regex.IsMatch(path, @"\.tmp-[0-9]+$");

    /// <summary>Fails on a file that is neither version; returns how many temporary files are left and how many files are only A's or B's.</summary>
    private static (int Temporaries, int OnlyA, int OnlyB) AssertEveryFileOldOrNew(string directory, SortedDictionary<string, byte[]> a, SortedDictionary<string, byte[]> b, string when)
    {
        var now = Snapshot(directory);
        int temporaries = 0, onlyA = 0, onlyB = 0;
        foreach (var (path, bytes) in now)
        {
            if (IsTemporary(path)) { temporaries++; continue; }
            bool isA = a.TryGetValue(path, out var va) && va.AsSpan().SequenceEqual(bytes);
            bool isB = b.TryGetValue(path, out var vb) && vb.AsSpan().SequenceEqual(bytes);
            Assert.IsTrue(isA || isB, $"{path} {when} is neither the old nor the new version ({bytes.Length} bytes; A {va?.Length}, B {vb?.Length})");
            if (isA && !isB) onlyA++;
            if (isB && !isA) onlyB++;
        }
        foreach (string path in a.Keys.Intersect(b.Keys))
            Assert.IsTrue(now.ContainsKey(path), $"{path} {when} is missing although both versions have it");
        return (temporaries, onlyA, onlyB);
    }

    // ---- 4. names are data ----

    private const string HostileModelName = "evil \"name\"; [exec rm -rf /] -- drop\nentity signal $env(HOME) Zürich ∑";
    private const string HostileTopName = "top \"q\"; [puts pwn] -- c\nsignal entity ${x} Ünï";
    private const string HostileColumn = "temp, \"C\"";

    /// <summary>Pieces of the names that must not reach VHDL, scripts, CSV or file names.</summary>
    private static readonly string[] HostileFragments =
        ["\"name\"", "[exec", "$env", "Zürich", "∑", "\"q\"", "[puts", "${x}", "Ünï", "\"C\"", "temp, "];

    [TestMethod]
    [DataRow(false, DisplayName = "top from the model name")]
    [DataRow(true, DisplayName = "top from FpgaTopName")]
    public void HostileNamesAreData(bool topNameProperty)
    {
        var shape = new ModelShape { ModelName = HostileModelName, TargetColumn = HostileColumn };
        var project = new HardwareProject(Consumption.ProjectSdk, "names" + (topNameProperty ? "top" : "model"), shape);
        // In the project XML: the newline as a character reference; ; [ ] $ { } are plain MSBuild text.
        string property = topNameProperty
            ? "<FpgaTopName>" + System.Security.SecurityElement.Escape(HostileTopName).Replace("\n", "&#10;", StringComparison.Ordinal) + "</FpgaTopName>"
            : "";
        project.WriteProject(Items, property);

        var result = project.Build();

        AssertSucceeded(result);
        AssertNoStackTrace(result.Output);
        var files = Snapshot(project.OutputDir);
        Assert.IsTrue(files.ContainsKey("report/simulation.json"));
        foreach (var (path, bytes) in files)
        {
            Assert.IsTrue(Regex.IsMatch(path, "^[A-Za-z0-9_./-]+$"), $"output file name '{path}' is not plain [A-Za-z0-9_./-]");
            string text = Encoding.UTF8.GetString(bytes);
            foreach (string raw in new[] { HostileModelName, HostileTopName, HostileColumn })
                Assert.IsFalse(text.Contains(raw, StringComparison.Ordinal), $"{path} contains the raw name {JsonSerializer.Serialize(raw)}");
            if (path.EndsWith(".json", StringComparison.Ordinal)) continue; // JSON carries the names, escaped (checked below)
            foreach (string fragment in HostileFragments)
                Assert.IsFalse(text.Contains(fragment, StringComparison.Ordinal), $"{path} contains '{fragment}' from a user-supplied name");
        }

        // The JSON report is valid and carries the names as data.
        using (var doc = JsonDocument.Parse(files["report/simulation.json"]))
        {
            var root = doc.RootElement;
            if (root.TryGetProperty("model", out var model)) Assert.AreEqual(HostileModelName, model.GetString());
            if (root.TryGetProperty("target_columns", out var columns)) Assert.AreEqual(HostileColumn, columns[0].GetString());
        }

        // predictions.csv: the column name stays one cell per prefix.
        string header = Encoding.UTF8.GetString(files["report/predictions.csv"]).Split('\n')[0];
        Assert.AreEqual(4, header.Split(',').Length, "predictions.csv header: " + header);
        Assert.IsFalse(header.Contains('"'), "predictions.csv header: " + header);

        // The design: every entity name is a plain VHDL identifier; the top is named after the sanitized text.
        var entities = files.Where(f => f.Key.StartsWith("hdl/", StringComparison.Ordinal) && f.Key.EndsWith(".vhd", StringComparison.Ordinal))
            .SelectMany(f => Regex.Matches(Encoding.UTF8.GetString(f.Value), @"^\s*entity\s+(\S+)\s+is\b", RegexOptions.Multiline | RegexOptions.IgnoreCase).Select(m => m.Groups[1].Value))
            .ToList();
        foreach (string entity in entities)
            Assert.IsTrue(Regex.IsMatch(entity, "^[a-z][a-z0-9]*(_[a-z0-9]+)*$"), $"entity name '{entity}' is not a plain VHDL identifier");
        Assert.AreEqual(entities.Count, entities.Distinct(StringComparer.OrdinalIgnoreCase).Count(), "two entities share a name: " + string.Join(", ", entities));

        // If GHDL is installed, the design with these names analyses and elaborates (bit-exactness is the
        // HDL tests' business). The sources.txt order and the testbench, as run_ghdl.sh takes them.
        string hdl = Path.Combine(project.OutputDir, "hdl");
        var testbench = files.Keys.Where(k => Regex.IsMatch(k, "^hdl/tb_[^/]+\\.vhd$")).ToList();
        if (File.Exists(Path.Combine(hdl, "sources.txt")) && testbench.Count == 1 && OnPath("ghdl"))
        {
            const string analyse = """
                set -e
                mkdir -p work
                while IFS= read -r f || [ -n "$f" ]; do
                  [ -z "$f" ] && continue
                  ghdl -a --std=08 --workdir=work "$f"
                done < sources.txt
                ghdl -a --std=08 --workdir=work "$1"
                ghdl -e --std=08 --workdir=work "$2"
                """;
            string tb = Path.GetFileName(testbench[0]);
            var ghdl = Shell(hdl, "sh", "-c", analyse, "analyse", tb, Path.GetFileNameWithoutExtension(tb));
            Assert.AreEqual(0, ghdl.ExitCode, "GHDL analysis/elaboration failed:\n" + ghdl.Output);
        }
    }

    // ---- helpers ----

    /// <summary>Every file under <paramref name="directory"/> by path relative to it, with '/' separators.</summary>
    private static SortedDictionary<string, byte[]> Snapshot(string directory)
    {
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        if (!Directory.Exists(directory)) return files;
        foreach (string file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            // Temporary files are listed, not read (one may be a FIFO left by the kill test).
            files[Path.GetRelativePath(directory, file).Replace('\\', '/')] = IsTemporary(file) ? [] : File.ReadAllBytes(file);
        }
        return files;
    }

    /// <summary>The outputs a failed build must keep: hdl/, yosys/, vivado/ or, before those exist, everything but report/.</summary>
    private static SortedDictionary<string, byte[]> DesignOutputs(string directory)
    {
        var all = Snapshot(directory);
        bool hasDesign = DesignFolders.Any(f => Directory.Exists(Path.Combine(directory, f)));
        var kept = all.Where(f => hasDesign
                ? DesignFolders.Any(d => f.Key.StartsWith(d + "/", StringComparison.Ordinal))
                : !f.Key.StartsWith("report/", StringComparison.Ordinal))
            .ToDictionary(f => f.Key, f => f.Value);
        return new SortedDictionary<string, byte[]>(kept, StringComparer.Ordinal);
    }

    private static void AssertSameTree(SortedDictionary<string, byte[]> expected, SortedDictionary<string, byte[]> actual, string what)
    {
        var missing = expected.Keys.Except(actual.Keys).ToList();
        var extra = actual.Keys.Except(expected.Keys).ToList();
        var different = expected.Keys.Intersect(actual.Keys).Where(k => !expected[k].AsSpan().SequenceEqual(actual[k])).ToList();
        Assert.IsTrue(missing.Count == 0 && extra.Count == 0 && different.Count == 0,
            $"{what}: missing [{string.Join(", ", missing)}], extra [{string.Join(", ", extra)}], different [{string.Join(", ", different)}]");
    }

    private static string Digest(SortedDictionary<string, byte[]> tree)
    {
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var (path, bytes) in tree)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(path + "\0"));
            sha.AppendData(bytes);
        }
        return Convert.ToHexString(sha.GetHashAndReset());
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Any(dir => dir.Length > 0 && File.Exists(Path.Combine(dir, program)));

    private static DotNetResult Shell(string workingDirectory, string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit((int)Timeout.TotalMilliseconds))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in {Timeout}");
        }
        return new DotNetResult(process.ExitCode, stdout + stderr.Result);
    }
}
