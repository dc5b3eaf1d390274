using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using static TransformerFpga.Build.Tests.EndToEndTests;

namespace TransformerFpga.Build.Tests;

/// <summary>
/// What a CI gate and an IDE rely on: up-to-date decisions that never hide a failure or a warning, outputs
/// that are regenerated when touched, the tasks hosted out of process, the design-time targets of the
/// project SDK, and a task package that carries only what the build runs.
/// </summary>
[TestClass]
public sealed class PackageHostingTests
{
    private static readonly string Items = """
        <LayerPrecision Include="encoder0.ffn.%2A" WeightBits="8" ActivationBits="8" />
        """;

    private static readonly Regex BudgetWarning = new(@"warning TFPGA1[0-9][0-9]:");
    private static readonly Regex BudgetError = new(@"error TFPGA1[0-9][0-9]:");

    [TestMethod]
    [DataRow(Consumption.PackageReference)]
    [DataRow(Consumption.ProjectSdk)]
    public void WarningsAsErrorsFailEveryTimeAndAnUpToDateBuildStillShowsTheWarnings(Consumption consumption)
    {
        // Over a 1 % budget with FpgaBudgetAsWarning=true (the test projects' setting): warnings only.
        var project = new HardwareProject(consumption, "warnaserror").WriteProject(Items, "<FpgaUtilizationLimitPercent>1</FpgaUtilizationLimitPercent>");

        var strict = project.Build("-warnaserror");
        Assert.AreNotEqual(0, strict.ExitCode, "-warnaserror of a design over budget succeeded:\n" + strict.Output);
        StringAssert.Matches(strict.Output, BudgetError);

        // A failed build is never up to date: the plain build after it generates again.
        var plain = project.Build("-v:d");
        AssertSucceeded(plain);
        AssertRan(plain, "a failed -warnaserror build");
        StringAssert.Matches(plain.Output, BudgetWarning, "the build after a failed -warnaserror build shows no budget warning");
        Assert.IsFalse(plain.Output.Contains(" 0 Warning(s)", StringComparison.Ordinal), "0 Warning(s) after a build with budget warnings:\n" + plain.Output);

        // Up to date now: the generation is skipped, its warnings are logged again, and -warnaserror still fails.
        var upToDate = project.Build("-v:n");
        AssertSucceeded(upToDate);
        StringAssert.Contains(upToDate.Output, SkipMessage);
        StringAssert.Matches(upToDate.Output, BudgetWarning, "an up-to-date build hid the generation's warnings");
        Assert.IsFalse(upToDate.Output.Contains(" 0 Warning(s)", StringComparison.Ordinal), "0 Warning(s) on an up-to-date build with warnings:\n" + upToDate.Output);

        var strictAgain = project.Build("-warnaserror", "-v:n");
        Assert.AreNotEqual(0, strictAgain.ExitCode, "-warnaserror succeeded on an up-to-date build with warnings:\n" + strictAgain.Output);
        StringAssert.Matches(strictAgain.Output, BudgetError);
    }

    [TestMethod]
    [DataRow("-p:MSBuildTreatWarningsAsErrors=true")]
    [DataRow("-p:MSBuildWarningsAsErrors=TFPGA101")]
    [DataRow("-warnaserror:TFPGA101")]
    public void ABuildFailedByTheProjectsWarningsAsErrorsIsNotUpToDate(string warningsAsErrors)
    {
        // A folder per data row: the rows run in parallel.
        string name = "wae-" + new string(warningsAsErrors.Where(char.IsLetterOrDigit).ToArray()).ToLowerInvariant();
        var project = new HardwareProject(Consumption.ProjectSdk, name).WriteProject(Items, "<FpgaUtilizationLimitPercent>1</FpgaUtilizationLimitPercent>");

        var strict = project.Build(warningsAsErrors);
        Assert.AreNotEqual(0, strict.ExitCode, warningsAsErrors + " of a design over budget succeeded:\n" + strict.Output);
        StringAssert.Matches(strict.Output, BudgetError);

        var plain = project.Build("-v:d");
        AssertSucceeded(plain);
        AssertRan(plain, "a build that " + warningsAsErrors + " failed");
        StringAssert.Matches(plain.Output, BudgetWarning);
    }

    [TestMethod]
    public void DeletedOrEditedOutputsAreRegenerated()
    {
        var project = new HardwareProject(Consumption.ProjectSdk, "touched").WriteProject(Items);
        AssertSucceeded(project.Build());
        var original = Directory.EnumerateFiles(project.OutputDir, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(project.OutputDir, f), File.ReadAllBytes);
        string Pick(string folder) => original.Keys.Where(k => k.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal)).Order(StringComparer.Ordinal).First();

        foreach (string folder in new[] { "hdl", "vivado", "yosys", "report" })
        {
            string deleted = Pick(folder);
            File.Delete(Path.Combine(project.OutputDir, deleted));
            var afterDelete = project.Build("-v:d");
            AssertSucceeded(afterDelete);
            AssertRan(afterDelete, "deleting " + deleted);
            CollectionAssert.AreEqual(original[deleted], File.ReadAllBytes(Path.Combine(project.OutputDir, deleted)), deleted + " was not regenerated");

            string edited = Pick(folder);
            File.AppendAllText(Path.Combine(project.OutputDir, edited), "\n-- edited\n");
            var afterEdit = project.Build("-v:d");
            AssertSucceeded(afterEdit);
            AssertRan(afterEdit, "editing " + edited);
            CollectionAssert.AreEqual(original[edited], File.ReadAllBytes(Path.Combine(project.OutputDir, edited)), edited + " was not regenerated");
        }
        StringAssert.Contains(project.Build("-v:d").Output, SkipMessage, "not up to date after the regenerations");
    }

    [TestMethod]
    [DataRow("TransformerFpga.Build", "build/TransformerFpga.Build.targets")]
    [DataRow("TransformerFpga.Build", "buildTransitive/TransformerFpga.Build.targets")]
    [DataRow("TransformerFpga.Build.Sdk", "targets/TransformerFpga.Build.targets")]
    public void PackedTargetsRunEveryTaskInATaskHost(string package, string targets)
    {
        using var zip = ZipFile.OpenRead(Path.Combine(Packages.Root, "feed", $"{package}.{Packages.Version}.nupkg"));
        var entry = zip.GetEntry(targets) ?? throw new AssertFailedException(targets + " is not in " + package);
        using var stream = entry.Open();
        var usingTasks = XDocument.Load(stream).Root!.Elements().Where(e => e.Name.LocalName == "UsingTask").ToList();

        Assert.IsTrue(usingTasks.Count >= 4, "expected the four tasks' UsingTask elements");
        foreach (var usingTask in usingTasks)
        {
            string name = (string?)usingTask.Attribute("TaskName") ?? "";
            Assert.AreEqual("TaskHostFactory", (string?)usingTask.Attribute("TaskFactory"), name + " is not run out of process");
            Assert.AreEqual("$(_FpgaTaskRuntime)", (string?)usingTask.Attribute("Runtime"), name + " does not pick the task host runtime");
        }
    }

    [TestMethod]
    [DataRow("TransformerFpga.Build")]
    [DataRow("TransformerFpga.Build.Sdk")]
    public void PackageReadmeIsDeclaredAndPackedAtTheRoot(string package)
    {
        using var zip = ZipFile.OpenRead(Path.Combine(Packages.Root, "feed", $"{package}.{Packages.Version}.nupkg"));
        var nuspec = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.OrdinalIgnoreCase));
        XDocument manifest;
        using (var stream = nuspec.Open()) manifest = XDocument.Load(stream);
        string? readme = manifest.Descendants().FirstOrDefault(e => e.Name.LocalName == "readme")?.Value;

        Assert.AreEqual("README.md", readme, package + " declares no package readme");
        var entry = zip.GetEntry(readme!) ?? throw new AssertFailedException(readme + " is not in " + package);
        using var reader = new StreamReader(entry.Open());
        StringAssert.Contains(reader.ReadToEnd(), "TransformerModel", "the package readme shows no minimal project");
    }

    [TestMethod]
    [DataRow("TransformerFpga.Build")]
    [DataRow("TransformerFpga.Build.Sdk")]
    public void TaskPackageHoldsOnlyTheAssembliesTheBuildRuns(string package)
    {
        using var zip = ZipFile.OpenRead(Path.Combine(Packages.Root, "feed", $"{package}.{Packages.Version}.nupkg"));
        var assemblies = zip.Entries.Where(e => e.FullName.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)).Select(e => e.FullName).Order(StringComparer.Ordinal).ToList();

        CollectionAssert.AreEqual(new[] { "tasks/net8.0/TransformerFpga.Build.dll", "tasks/net8.0/TransformerFpga.Core.dll" }, assemblies, string.Join(", ", assemblies));
        foreach (string assembly in assemblies)
        {
            using var stream = new MemoryStream();
            using (var entry = zip.GetEntry(assembly)!.Open()) entry.CopyTo(stream);
            stream.Position = 0;
            using var pe = new PEReader(stream);
            var metadata = pe.GetMetadataReader();
            var types = metadata.TypeDefinitions.Select(t => metadata.GetString(metadata.GetTypeDefinition(t).Name)).ToHashSet(StringComparer.Ordinal);
            foreach (string benchOnly in new[] { "SynthesisCheck", "SyntheticModel", "ResourceFit", "LeastSquares" })
                Assert.IsFalse(types.Contains(benchOnly), $"{assembly} in {package} ships the bench/test type {benchOnly}");
        }
    }

    [TestMethod]
    public void ProjectSdkAnswersTheDesignTimeTargetsWithoutGenerating()
    {
        var project = new HardwareProject(Consumption.ProjectSdk, "designtime").WriteProject(Items);
        string[] designTimeTargets =
        [
            "ResolveAssemblyReferencesDesignTime", "ResolveProjectReferencesDesignTime", "ResolveComReferencesDesignTime",
            "ResolveFrameworkReferencesDesignTime", "ResolvePackageDependenciesDesignTime", "CollectPackageReferences",
            "CollectPackageDownloads", "CollectFrameworkReferences", "CollectCentralPackageVersions", "CollectAnalyzersDesignTime",
            "CollectResolvedSDKReferencesDesignTime", "CollectSuggestedWorkloads", "CompileDesignTime", "GetTargetPath",
            "CollectUpToDateCheckInputDesignTime", "CollectUpToDateCheckOutputDesignTime", "CollectUpToDateCheckBuiltDesignTime",
        ];

        var result = DotNet.Run(project.Directory, TimeSpan.FromMinutes(5), "msbuild", project.ProjectFile, "-restore",
            "-t:" + string.Join(';', designTimeTargets), "-p:DesignTimeBuild=true", "-p:SkipCompilerExecution=true", "-p:ProvideCommandLineArgs=true",
            "-getItem:UpToDateCheckInput", "-getItem:UpToDateCheckBuilt", "-getTargetResult:" + string.Join(',', designTimeTargets));

        Assert.AreEqual(0, result.ExitCode, "design-time targets failed:\n" + result.Output);
        using var json = JsonDocument.Parse(result.Output[result.Output.IndexOf('{')..]);
        foreach (string target in designTimeTargets)
            Assert.AreEqual("Success", json.RootElement.GetProperty("TargetResults").GetProperty(target).GetProperty("Result").GetString(), target);
        AssertItems(json, "UpToDateCheckInput", project.ModelJson, project.Weights, project.TestCsv, Path.Combine(project.Directory, "data", "calib.csv"));
        AssertItems(json, "UpToDateCheckBuilt", Path.Combine(project.Directory, "obj", "Debug", "fpga", "fpga.succeeded"));
        Assert.IsFalse(Directory.Exists(project.OutputDir), "a design-time build generated the design");
    }

    [TestMethod]
    public void PackageReferenceProjectDeclaresTheModelFilesForTheFastUpToDateCheck()
    {
        var project = new HardwareProject(Consumption.PackageReference, "futdc").WriteProject(Items);

        var result = DotNet.Run(project.Directory, TimeSpan.FromMinutes(5), "msbuild", project.ProjectFile, "-restore",
            "-t:FpgaCollectUpToDateCheckItems", "-p:DesignTimeBuild=true", "-getItem:UpToDateCheckInput", "-getItem:UpToDateCheckBuilt");

        Assert.AreEqual(0, result.ExitCode, "FpgaCollectUpToDateCheckItems failed:\n" + result.Output);
        using var json = JsonDocument.Parse(result.Output[result.Output.IndexOf('{')..]);
        AssertItems(json, "UpToDateCheckInput", project.ModelJson, project.Weights, project.TestCsv);
        AssertItems(json, "UpToDateCheckBuilt", Path.Combine(project.Directory, "obj", "Debug", "net10.0", "fpga", "fpga.succeeded"));
    }

    /// <summary>The item type in `-getItem` output holds every one of <paramref name="expected"/> (full paths), each in the set "Fpga".</summary>
    private static void AssertItems(JsonDocument json, string itemType, params string[] expected)
    {
        var items = json.RootElement.GetProperty("Items").GetProperty(itemType).EnumerateArray()
            .Where(i => i.GetProperty("Set").GetString() == "Fpga")
            .Select(i => Path.GetFullPath(i.GetProperty("FullPath").GetString()!)).ToHashSet(StringComparer.Ordinal);
        foreach (string file in expected)
            Assert.IsTrue(items.Contains(Path.GetFullPath(file)), $"{itemType} lacks {file}: {string.Join(", ", items)}");
    }
}
