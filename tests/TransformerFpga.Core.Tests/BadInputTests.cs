using System.Globalization;
using System.Buffers.Binary;
using System.Text;
using TransformerFpga.Diagnostics;
using TransformerFpga.Model;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Tests;

/// <summary>Every malformed input ends in one coded error naming a file, never an exception.</summary>
[TestClass]
public sealed class BadInputTests
{
    private sealed class Case(string name, string code, Action<Setup> mutate)
    {
        public string Name { get; } = name;
        public string Code { get; } = code;
        public Action<Setup> Mutate { get; } = mutate;
        public override string ToString() => Name;
    }

    /// <summary>A valid synthetic model in a project folder, and the request that builds it.</summary>
    private sealed class Setup
    {
        public Setup(TestFolder folder, SyntheticModelSpec? spec = null)
        {
            ModelPath = SyntheticModel.Write(folder.File("model"), spec ?? new SyntheticModelSpec(), seed: 2);
            ProjectFile = folder.File("Hardware.csproj");
            File.WriteAllText(ProjectFile, "<Project />");
            Request = new BuildRequest(ProjectFile, ["model/synthetic.json"], [], [], [], new BuildSettings { OutputDir = folder.File("out"), BudgetAsWarning = true });
        }

        public string ModelPath { get; }
        public string ModelDirectory => Path.GetDirectoryName(ModelPath)!;
        public string WeightsPath => Path.Combine(ModelDirectory, "synthetic.safetensors");
        public string CsvPath => Path.Combine(ModelDirectory, "synthetic.csv");
        public string ProjectFile { get; }
        public BuildRequest Request { get; set; }

        public void EditJson(string from, string to)
        {
            string text = File.ReadAllText(ModelPath);
            Assert.IsTrue(text.Contains(from), $"model JSON has no '{from}'");
            File.WriteAllText(ModelPath, text.Replace(from, to));
        }

        public void EditWeights(Func<Dictionary<string, Tensor>, Dictionary<string, Tensor>> edit) =>
            File.WriteAllBytes(WeightsPath, SafeTensors.Serialize(edit(SafeTensors.Read(WeightsPath))));

        public void EditCsvLine(int line, string text)
        {
            var lines = File.ReadAllLines(CsvPath);
            lines[line] = text;
            File.WriteAllLines(CsvPath, lines);
        }

        public void Items(LayerItem[]? precision = null, LayerItem[]? buffers = null, LayerItem[]? lanes = null) =>
            Request = Request with { Precisions = precision ?? [], Buffers = buffers ?? [], Parallelism = lanes ?? [] };

        public void Settings(Func<BuildSettings, BuildSettings> edit) => Request = Request with { Settings = edit(Request.Settings) };
    }

    private static LayerItem Item(string pattern, params (string Key, string Value)[] metadata) =>
        new(pattern, metadata.ToDictionary(m => m.Key, m => m.Value));

    private static IEnumerable<Case> Cases()
    {
        yield return new("model JSON missing", ErrorCodes.ModelFileMissing, s => File.Delete(s.ModelPath));
        yield return new("JSON syntax error", ErrorCodes.ModelJsonSyntax, s => s.EditJson("\"window\": 8,", "\"window\": 8,,"));
        yield return new("JSON truncated", ErrorCodes.ModelJsonSyntax, s => File.WriteAllText(s.ModelPath, File.ReadAllText(s.ModelPath)[..40]));
        yield return new("window is a string", ErrorCodes.ModelJsonInvalid, s => s.EditJson("\"window\": 8", "\"window\": \"eight\""));
        yield return new("unknown property", ErrorCodes.ModelJsonInvalid, s => s.EditJson("\"window\": 8", "\"windwo\": 8"));
        yield return new("unknown format version", ErrorCodes.ModelFormatVersion, s => s.EditJson("transformer-fpga/1", "transformer-fpga/9"));
        yield return new("d_model not divisible by heads", ErrorCodes.ModelJsonInvalid, s => s.EditJson("\"heads\": 1", "\"heads\": 3"));
        yield return new("zero window", ErrorCodes.ModelJsonInvalid, s => s.EditJson("\"window\": 8", "\"window\": 0"));
        yield return new("negative d_model", ErrorCodes.ModelJsonInvalid, s => s.EditJson("\"dModel\": 8", "\"dModel\": -8"));
        yield return new("absurd d_model", ErrorCodes.ModelJsonInvalid, s => s.EditJson("\"dModel\": 8", "\"dModel\": 1000000"));
        yield return new("unknown norm", ErrorCodes.ModelJsonInvalid, s => s.EditJson("\"norm\": \"batch\"", "\"norm\": \"group\""));
        yield return new("input column count", ErrorCodes.ModelJsonInvalid, s => s.EditJson("\"inputFeatures\": 2", "\"inputFeatures\": 3"));
        yield return new("weights missing", ErrorCodes.WeightsFileMissing, s => File.Delete(s.WeightsPath));
        yield return new("weights outside project", ErrorCodes.PathOutsideProject, s => s.EditJson("\"weights\": \"synthetic.safetensors\"", "\"weights\": \"../../elsewhere.safetensors\""));
        yield return new("safetensors truncated header", ErrorCodes.SafeTensorsMalformed, s => File.WriteAllBytes(s.WeightsPath, File.ReadAllBytes(s.WeightsPath)[..20]));
        yield return new("safetensors oversized header", ErrorCodes.SafeTensorsMalformed, s =>
        {
            var bytes = File.ReadAllBytes(s.WeightsPath);
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue / 2);
            File.WriteAllBytes(s.WeightsPath, bytes);
        });
        yield return new("safetensors tiny file", ErrorCodes.SafeTensorsMalformed, s => File.WriteAllBytes(s.WeightsPath, [1, 2, 3]));
        yield return new("safetensors data truncated", ErrorCodes.SafeTensorsMalformed, s =>
        {
            var bytes = File.ReadAllBytes(s.WeightsPath);
            File.WriteAllBytes(s.WeightsPath, bytes[..^16]);
        });
        yield return new("safetensors header not JSON", ErrorCodes.SafeTensorsMalformed, s =>
        {
            var bytes = File.ReadAllBytes(s.WeightsPath);
            bytes[8] = (byte)'[';
            bytes[9] = (byte)'x';
            File.WriteAllBytes(s.WeightsPath, bytes);
        });
        yield return new("wrong dtype", ErrorCodes.TensorDtype, s =>
        {
            var bytes = File.ReadAllBytes(s.WeightsPath);
            string text = Encoding.UTF8.GetString(bytes);
            int at = text.IndexOf("\"F32\"", StringComparison.Ordinal);
            Encoding.UTF8.GetBytes("\"I32\"").CopyTo(bytes, at);
            File.WriteAllBytes(s.WeightsPath, bytes);
        });
        yield return new("missing tensor", ErrorCodes.TensorMissingOrShape, s => s.EditWeights(t => { t.Remove("encoder.0.ffn.fc1.bias"); return t; }));
        yield return new("wrong shape", ErrorCodes.TensorMissingOrShape, s => s.EditWeights(t => { t["head.weight"] = new Tensor([2, 4], new float[8]); return t; }));
        yield return new("NaN weight", ErrorCodes.TensorNotFinite, s => s.EditWeights(t => { t["embedding.weight"].Data[3] = float.NaN; return t; }));
        yield return new("infinite weight", ErrorCodes.TensorNotFinite, s => s.EditWeights(t => { t["encoder.0.attn.k.weight"].Data[0] = float.PositiveInfinity; return t; }));
        yield return new("negative variance", ErrorCodes.TensorNotFinite, s => s.EditWeights(t => { t["encoder.0.norm1.running_var"].Data[0] = -1; return t; }));
        yield return new("CSV missing", ErrorCodes.DataFileMissing, s => File.Delete(s.CsvPath));
        yield return new("CSV empty", ErrorCodes.DataMalformed, s => File.WriteAllText(s.CsvPath, ""));
        yield return new("CSV non-numeric cell", ErrorCodes.DataMalformed, s => s.EditCsvLine(5, "4,abc,1.0"));
        yield return new("CSV short row", ErrorCodes.DataMalformed, s => s.EditCsvLine(7, "6,1.0"));
        yield return new("CSV missing column", ErrorCodes.DataColumnMissing, s => s.EditCsvLine(0, "time,x0,y1"));
        yield return new("CSV fewer rows than a window", ErrorCodes.DataTooShort, s => File.WriteAllLines(s.CsvPath, File.ReadAllLines(s.CsvPath)[..5]));
        yield return new("no TransformerModel item", ErrorCodes.ModelItemCount, s => s.Request = s.Request with { ModelItems = [] });
        yield return new("two TransformerModel items", ErrorCodes.ModelItemCount, s => s.Request = s.Request with { ModelItems = ["model/synthetic.json", "model/other.json"] });
        yield return new("item matches no layer", ErrorCodes.ItemMatchesNoLayer, s => s.Items(precision: [Item("encoder7.*", ("WeightBits", "4"))]));
        yield return new("bits 0", ErrorCodes.InvalidBits, s => s.Items(precision: [Item("head", ("WeightBits", "0"))]));
        yield return new("bits 1", ErrorCodes.InvalidBits, s => s.Items(precision: [Item("head", ("ActivationBits", "1"))]));
        yield return new("bits 17", ErrorCodes.InvalidBits, s => s.Items(precision: [Item("head", ("WeightBits", "17"))]));
        yield return new("bits eight", ErrorCodes.InvalidBits, s => s.Items(precision: [Item("head", ("WeightBits", "eight"))]));
        yield return new("default bits invalid", ErrorCodes.InvalidBits, s => s.Settings(x => x with { DefaultWeightBits = "9.5" }));
        yield return new("unknown buffer resource", ErrorCodes.InvalidBufferResource, s => s.Items(buffers: [Item("embedding", ("Resource", "Flash"))]));
        yield return new("lanes 0", ErrorCodes.InvalidLanes, s => s.Items(lanes: [Item("embedding", ("Lanes", "0"))]));
        yield return new("unknown part", ErrorCodes.UnknownPart, s => s.Settings(x => x with { Part = "xc9z99" }));
        yield return new("clock not a number", ErrorCodes.InvalidProperty, s => s.Settings(x => x with { ClockMHz = "fast" }));
        yield return new("model outside project", ErrorCodes.PathOutsideProject, s => s.Request = s.Request with { ModelItems = ["../model.json"] });
        yield return new("engine lanes not dividing the model", ErrorCodes.InvalidLanes, s => s.Settings(x => x with { Architecture = "Engine", EngineLanes = "3" }));
        yield return new("engine lanes above the maximum", ErrorCodes.InvalidProperty, s => s.Settings(x => x with { Architecture = "Engine", EngineLanes = "128" }));
        yield return new("unknown architecture", ErrorCodes.InvalidProperty, s => s.Settings(x => x with { Architecture = "Systolic" }));
        yield return new("engine lanes not a number", ErrorCodes.InvalidProperty, s => s.Settings(x => x with { EngineLanes = "many" }));
        yield return new("unknown weight resource", ErrorCodes.InvalidBufferResource, s => s.Request = s.Request with { WeightResources = [Item("encoder0.ffn", ("Resource", "Flash"))] });
        yield return new("weight resource without Resource", ErrorCodes.InvalidBufferResource, s => s.Request = s.Request with { WeightResources = [Item("head", ("Layers", "head"))] });
    }

    public static IEnumerable<object[]> CaseData => Cases().Select(c => new object[] { c.Name });

    [TestMethod]
    [DynamicData(nameof(CaseData))]
    public void MalformedInputGivesItsCode(string name)
    {
        var @case = Cases().Single(c => c.Name == name);
        using var folder = new TestFolder();
        var setup = new Setup(folder);
        Assert.IsTrue(FpgaBuild.Run(setup.Request).Success, "the unmutated model must build");
        var previous = Directory.EnumerateFiles(folder.File("out"), "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);
        @case.Mutate(setup);
        var outcome = FpgaBuild.Run(setup.Request);
        foreach (var (file, bytes) in previous)
            CollectionAssert.AreEqual(bytes, File.ReadAllBytes(file), $"{name}: {file} changed although the build failed on its input");
        Assert.IsFalse(outcome.Success, $"{name}: the build succeeded");
        var errors = outcome.Diagnostics.Where(d => d.Severity == Severity.Error).ToList();
        Assert.AreEqual(1, errors.Count, $"{name}: {string.Join("; ", errors)}");
        Assert.AreEqual(@case.Code, errors[0].Code, $"{name}: {errors[0].Message}");
        Assert.IsFalse(string.IsNullOrEmpty(errors[0].File), $"{name}: the error names no file");
        StringAssert.DoesNotMatch(errors[0].Message, new System.Text.RegularExpressions.Regex(@"\bat \w+\.\w+"), "a stack trace leaked");
    }

    [TestMethod]
    public void ValidModelBuilds()
    {
        using var folder = new TestFolder();
        var setup = new Setup(folder);
        var outcome = FpgaBuild.Run(setup.Request);
        Assert.IsTrue(outcome.Success, string.Join("; ", outcome.Diagnostics));
        Assert.IsTrue(File.Exists(folder.File("out/report/simulation.json")));
    }

    /// <summary>
    /// With every buffer in LUT RAM, a row's block RAM is its ROMs' alone: the ROM column (where the tables go) and the
    /// BRAM18 count (how many RAMB18 they take) come from one rule and must agree, row by row; ffn.fc1's 4,096 × 8-bit
    /// weight ROM (d_model 32, ffn 128, one lane) goes to block RAM and its 128-word bias ROM to LUTs, the head's 32 words to LUTs.
    /// </summary>
    [TestMethod]
    public void TheRomColumnAgreesWithTheBlockRamCount()
    {
        using var folder = new TestFolder();
        var setup = new Setup(folder);
        SyntheticModel.Write(folder.File("model"), new SyntheticModelSpec(DModel: 32, FfnDim: 128, Name: "wide"), seed: 3);
        setup.Request = setup.Request with { ModelItems = ["model/wide.json"] };
        setup.Settings(x => x with { DefaultBufferResource = "Distributed", Architecture = "Layers" });
        var outcome = FpgaBuild.Run(setup.Request);
        Assert.IsTrue(outcome.Success, string.Join("; ", outcome.Diagnostics));
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(folder.File("out/report/resources.json")));
        var rows = json.RootElement.GetProperty("layers").EnumerateArray().ToDictionary(l => l.GetProperty("name").GetString()!);
        foreach (var (name, row) in rows)
        {
            string? rom = row.GetProperty("rom").ValueKind == System.Text.Json.JsonValueKind.Null ? null : row.GetProperty("rom").GetString();
            int bram = row.GetProperty("bram18").GetInt32();
            Assert.AreEqual(rom is "Block" or "Block+LUT", bram > 0, $"{name}: rom {rom ?? "none"}, {bram} RAMB18");
        }
        Assert.AreEqual("Block+LUT", rows["encoder0.ffn.fc1"].GetProperty("rom").GetString());
        Assert.AreEqual("LUT", rows["head"].GetProperty("rom").GetString());
        Assert.AreEqual(System.Text.Json.JsonValueKind.Null, rows["encoder0.attn.scores"].GetProperty("rom").ValueKind);
    }

    [TestMethod]
    public void EngineLanesWithoutTheEngineWarns()
    {
        using var folder = new TestFolder();
        var setup = new Setup(folder);
        setup.Settings(x => x with { Architecture = "layers", EngineLanes = "16" });
        var outcome = FpgaBuild.Run(setup.Request);
        Assert.IsTrue(outcome.Success, string.Join("; ", outcome.Diagnostics));
        var warning = outcome.Diagnostics.Single(d => d.Severity == Severity.Warning && d.Code == ErrorCodes.SettingWithoutEffect);
        StringAssert.Contains(warning.Message, "FpgaEngineLanes is 16");
    }

    /// <summary>
    /// FpgaArchitecture=Engine builds the shared MAC engine: its VHDL, an engine row in the reports with the engine's
    /// DSPs and lanes, the engine's layers at the engine's lanes, and a warning for a LayerParallelism item that only
    /// selects engine layers (their lanes are the engine's).
    /// </summary>
    [TestMethod]
    public void EngineArchitectureBuilds()
    {
        using var folder = new TestFolder();
        var setup = new Setup(folder);
        setup.Settings(x => x with { Architecture = "Engine", EngineLanes = "4" });
        setup.Items(lanes: [Item("encoder0.attn.q", ("Lanes", "2"))]);
        var outcome = FpgaBuild.Run(setup.Request);
        Assert.IsTrue(outcome.Success, string.Join("; ", outcome.Diagnostics));
        var warning = outcome.Diagnostics.Single(d => d.Severity == Severity.Warning && d.Code == ErrorCodes.SettingWithoutEffect);
        StringAssert.Contains(warning.Message, "shared MAC engine");
        var sources = File.ReadAllLines(folder.File("out/hdl/sources.txt"));
        Assert.IsTrue(sources.Any(f => f.EndsWith("_engine.vhd", StringComparison.Ordinal)), string.Join(", ", sources));
        Assert.IsFalse(sources.Any(f => f.Contains("attn_q.vhd", StringComparison.Ordinal)), "the Q layer has no entity of its own");
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(folder.File("out/report/resources.json")));
        var rows = json.RootElement.GetProperty("layers").EnumerateArray().ToDictionary(l => l.GetProperty("name").GetString()!);
        Assert.AreEqual(4, rows["engine"].GetProperty("lanes").GetInt32());
        Assert.IsTrue(rows["engine"].GetProperty("dsp").GetInt32() >= 4, "one DSP48E1 per lane at least");
        Assert.AreEqual(4, rows["encoder0.attn.q"].GetProperty("lanes").GetInt32());
        Assert.AreEqual(0, rows["encoder0.attn.q"].GetProperty("dsp").GetInt32(), "an engine layer's row holds its buffer only");
        StringAssert.Contains(File.ReadAllText(folder.File("out/report/summary.md")), "| engine |");
    }

    /// <summary>
    /// With FpgaEngineLanes left open, the engine gets the most lanes with which the design fits: the same lanes an
    /// explicit setting would need to fit, and no more (here a 35 % budget, which the most lanes the model allows exceed).
    /// </summary>
    [TestMethod]
    public void EngineLanesLeftOpenAreTheMostThatFit()
    {
        (bool Fits, int Lanes) Build(string lanes)
        {
            using var folder = new TestFolder();
            var setup = new Setup(folder);
            setup.Settings(x => x with { Architecture = "Engine", EngineLanes = lanes, UtilizationLimitPercent = "35" });
            var outcome = FpgaBuild.Run(setup.Request);
            Assert.IsTrue(outcome.Success, string.Join("; ", outcome.Diagnostics));
            using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(folder.File("out/report/resources.json")));
            var engine = json.RootElement.GetProperty("layers").EnumerateArray().Single(l => l.GetProperty("name").GetString() == "engine");
            return (json.RootElement.GetProperty("fits").GetBoolean(), engine.GetProperty("lanes").GetInt32());
        }
        var explicitFits = new[] { 8, 4, 2, 1 }.ToDictionary(l => l, l => Build(l.ToString(CultureInfo.InvariantCulture)).Fits);
        Assert.IsFalse(explicitFits[8], "the budget must exclude the most lanes for this test to mean anything");
        int expected = explicitFits.Where(p => p.Value).Select(p => p.Key).DefaultIfEmpty(8).Max();
        Assert.AreNotEqual(8, expected, "some lane count must fit");
        var open = Build("");
        Assert.AreEqual(expected, open.Lanes);
        Assert.IsTrue(open.Fits);
    }

    /// <summary>
    /// An engine whose DSP48E1 lanes overflow the part fits by the Auto rule moving the lanes lacking a DSP to LUT
    /// multipliers: the sample's shape on 16 lanes needs 23 DSP48E1 with every lane on one.
    /// </summary>
    [TestMethod]
    public void EngineLanesTheDspsLackMoveToLuts()
    {
        using var folder = new TestFolder();
        var setup = new Setup(folder, new SyntheticModelSpec(Window: 24, InputFeatures: 3, DModel: 16, Heads: 1, FfnDim: 64));
        setup.Settings(x => x with { Architecture = "Engine", EngineLanes = "16", BudgetAsWarning = false });
        var outcome = FpgaBuild.Run(setup.Request);
        Assert.IsTrue(outcome.Success, string.Join("; ", outcome.Diagnostics));
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(folder.File("out/report/resources.json")));
        Assert.IsTrue(json.RootElement.GetProperty("fits").GetBoolean());
        var engine = json.RootElement.GetProperty("layers").EnumerateArray().Single(l => l.GetProperty("name").GetString() == "engine");
        Assert.AreEqual(16, engine.GetProperty("lanes").GetInt32());
        var mapping = System.Text.RegularExpressions.Regex.Match(engine.GetProperty("multiplier").GetString()!, @"^DSP (\d+) \+ LUT (\d+)$");
        Assert.IsTrue(mapping.Success, engine.GetProperty("multiplier").GetString());
        int dspLanes = int.Parse(mapping.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.AreEqual(16, dspLanes + int.Parse(mapping.Groups[2].Value, CultureInfo.InvariantCulture));
        string vhdl = File.ReadAllText(Directory.EnumerateFiles(folder.File("out/hdl"), "*_engine.vhd").Single());
        // the write-back of this batch-norm model: the residual add's two products (x·gain, residual·MS), then the norm's
        Assert.AreEqual(dspLanes + 1 + 3, engine.GetProperty("dsp").GetInt32(), "a DSP48E1 per DSP lane, the requantizer's and the write-back's three");
        StringAssert.Matches(vhdl, new System.Text.RegularExpressions.Regex($@"constant DSP_LANES\s*: natural := {dspLanes};"));
    }

    /// <summary>A WeightResource item takes effect on linear layers (its VHDL carries the rom_style) and warns where there is no weight ROM.</summary>
    [TestMethod]
    public void WeightResourceChoosesTheWeightRomsMemory()
    {
        using var folder = new TestFolder();
        var setup = new Setup(folder);
        setup.Request = setup.Request with { WeightResources = [Item("encoder0.ffn", ("Resource", "Block")), Item("pool", ("Resource", "Distributed"))] };
        setup.Settings(x => x with { Architecture = "Layers" });
        var outcome = FpgaBuild.Run(setup.Request);
        Assert.IsTrue(outcome.Success, string.Join("; ", outcome.Diagnostics));
        var warning = outcome.Diagnostics.Single(d => d.Code == ErrorCodes.SettingWithoutEffect);
        StringAssert.Contains(warning.Message, "WeightResource 'pool' sets Resource, which has no effect: pool has no weight ROM");
        string fc1 = Directory.EnumerateFiles(folder.File("out/hdl"), "*_encoder0_ffn_fc1.vhd").Single();
        StringAssert.Contains(File.ReadAllText(fc1), "attribute rom_style of WEIGHTS : signal is \"block\";");
        StringAssert.Contains(File.ReadAllText(folder.File("out/yosys/synth.ys")), "setattr -set rom_style \"block\"");
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(folder.File("out/report/resources.json")));
        var rom = json.RootElement.GetProperty("layers").EnumerateArray().ToDictionary(l => l.GetProperty("name").GetString()!, l => l.GetProperty("rom").ToString());
        StringAssert.StartsWith(rom["encoder0.ffn.fc1"], "Block");
        StringAssert.StartsWith(rom["encoder0.ffn.fc2"], "Block");
        Assert.AreEqual("LUT", rom["head"]);
    }

    [TestMethod]
    public void JsonErrorsCarryTheLine()
    {
        using var folder = new TestFolder();
        var setup = new Setup(folder);
        setup.EditJson("\"norm\": \"batch\"", "\"norm\": \"group\"");
        var error = FpgaBuild.Run(setup.Request).Diagnostics.Single();
        Assert.AreEqual(7, error.Line); // the "norm" key's line in the generated JSON
        Assert.AreEqual(setup.ModelPath, error.File);
    }

    [TestMethod]
    public void ItemErrorsPointAtTheItemLine()
    {
        using var folder = new TestFolder();
        var setup = new Setup(folder);
        File.WriteAllText(setup.ProjectFile, "<Project>\n  <ItemGroup>\n    <LayerPrecision Include=\"head\" WeightBits=\"8\" />\n    <LayerPrecision Include=\"encoder0.ffn.%2A\" WeightBits=\"eight\" />\n  </ItemGroup>\n</Project>\n");
        setup.Items(precision: [Item("head", ("WeightBits", "8")), Item("encoder0.ffn.*", ("WeightBits", "eight"))]);
        var error = FpgaBuild.Run(setup.Request).Diagnostics.Single();
        Assert.AreEqual(ErrorCodes.InvalidBits, error.Code);
        Assert.AreEqual(4, error.Line);
        Assert.AreEqual(setup.ProjectFile, error.File);
    }

    [TestMethod]
    public void CsvErrorsCarryTheLine()
    {
        using var folder = new TestFolder();
        var setup = new Setup(folder);
        setup.EditCsvLine(5, "4,abc,1.0");
        var error = FpgaBuild.Run(setup.Request).Diagnostics.Single();
        Assert.AreEqual(6, error.Line);
        Assert.AreEqual(setup.CsvPath, error.File);
    }
}

[TestClass]
public sealed class BudgetGateTests
{
    private static BuildRequest Request(TestFolder folder, bool asWarning, string limit)
    {
        SyntheticModel.Write(folder.File("model"), new SyntheticModelSpec(), seed: 2);
        string project = folder.File("Hardware.csproj");
        File.WriteAllText(project, "<Project />");
        return new BuildRequest(project, ["model/synthetic.json"], [], [], [],
            new BuildSettings { OutputDir = folder.File("out"), BudgetAsWarning = asWarning, UtilizationLimitPercent = limit });
    }

    [TestMethod]
    public void OverBudgetFailsWithOneCodedErrorPerResourceAndKeepsNoHardware()
    {
        using var folder = new TestFolder();
        var outcome = FpgaBuild.Run(Request(folder, asWarning: false, limit: "1"));
        Assert.IsFalse(outcome.Success);
        var errors = outcome.Diagnostics.Where(d => d.Severity == Severity.Error).ToList();
        CollectionAssert.IsSubsetOf(new[] { "TFPGA101", "TFPGA103" }, errors.Select(e => e.Code).ToList(), string.Join("\n", errors));
        Assert.AreEqual(errors.Count, errors.Select(e => e.Code).Distinct().Count(), "one diagnostic per resource");
        StringAssert.Contains(errors.First(e => e.Code == "TFPGA101").Message, "largest consumers:");
        StringAssert.Contains(errors.First(e => e.Code == "TFPGA101").Message, "available (1 % of xc7s15ftgb196-1)");
        StringAssert.Contains(errors.First(e => e.Code == "TFPGA101").Message, "run `dotnet build -t:FpgaExplore`", "no single change fits 1 % of the part");
        Assert.IsTrue(File.Exists(folder.File("out/report/resources.json")), "report/ describes the failed attempt");
        StringAssert.Contains(File.ReadAllText(folder.File("out/report/resources.json")), "\"fits\": false");
        Assert.IsFalse(Directory.Exists(folder.File("out/hdl")), "a design over budget must not replace the hardware outputs");
    }

    [TestMethod]
    public void AutoMultipliersMoveToLutsUntilTheDspsFitAndExplicitOnesStay()
    {
        using var folder = new TestFolder();
        // The sample's architecture (d 16, window 24, ffn 64): every MAC layer on DSPs needs 48 DSP48E1.
        SyntheticModel.Write(folder.File("model"), new SyntheticModelSpec(Window: 24, InputFeatures: 3, DModel: 16, FfnDim: 64, Rows: 300), seed: 3);
        string project = folder.File("Hardware.csproj");
        File.WriteAllText(project, "<Project />");
        var settings = new BuildSettings { OutputDir = folder.File("out"), Architecture = "Layers" };
        var auto = FpgaBuild.Run(new BuildRequest(project, ["model/synthetic.json"], [], [], [], settings));
        Assert.IsTrue(auto.Success, string.Join("\n", auto.Diagnostics));
        StringAssert.Contains(auto.Summary!, "fits xc7s15ftgb196-1 with ");
        using (var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(folder.File("out/report/resources.json"))))
        {
            int dsp = json.RootElement.GetProperty("total").GetProperty("dsp").GetInt32();
            Assert.IsTrue(dsp is > 0 and <= 20, $"DSP {dsp}");
        }
        // The linear layers use LUT multipliers now: their templates say so to Vivado.
        int lutLayerFiles = Directory.GetFiles(folder.File("out/hdl"), "*.vhd").Count(f => File.ReadAllText(f).Contains("use_dsp of", StringComparison.Ordinal));
        Assert.IsTrue(lutLayerFiles > 0);
        // resources.json and summary.md name each MAC layer's multipliers as built: as many LUT layers as VHDL files that keep products off DSPs.
        using (var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(folder.File("out/report/resources.json"))))
        {
            var rows = json.RootElement.GetProperty("layers").EnumerateArray()
                .Select(l => (Name: l.GetProperty("name").GetString()!, Multiplier: l.GetProperty("multiplier").ValueKind == System.Text.Json.JsonValueKind.Null ? null : l.GetProperty("multiplier").GetString())).ToList();
            Assert.AreEqual(lutLayerFiles, rows.Count(r => r.Multiplier == "LUT"), string.Join(", ", rows));
            Assert.IsTrue(rows.Any(r => r.Multiplier == "DSP"), string.Join(", ", rows));
            foreach (var r in rows)
                Assert.AreEqual(r.Name.Contains("attn.softmax", StringComparison.Ordinal) || r.Name.Contains("norm", StringComparison.Ordinal) || r.Name is "posenc" or "pool" or "input" or "control"
                    || r.Name.Contains("add", StringComparison.Ordinal) || r.Name.EndsWith("relu", StringComparison.Ordinal), r.Multiplier is null, r.Name);
            string summary = File.ReadAllText(folder.File("out/report/summary.md"));
            StringAssert.Contains(summary, "| lanes | multipliers | buffer |");
            foreach (var r in rows.Where(r => r.Multiplier is not null))
                StringAssert.Contains(summary, $"| {r.Name} | ", r.Name);
            // the multipliers cell of each layer row (the ROM column may say LUT too)
            Assert.AreEqual(lutLayerFiles, summary.Split('\n').Count(l => l.StartsWith("| ", StringComparison.Ordinal) && l.Split('|') is { Length: > 4 } cells && cells[4].Trim() == "LUT"));
        }

        var pinned = FpgaBuild.Run(new BuildRequest(project, ["model/synthetic.json"], [], [],
            [new LayerItem("*", new Dictionary<string, string> { ["Multiplier"] = "Dsp" })], settings));
        Assert.IsFalse(pinned.Success, "Multiplier=Dsp on every layer must not be overridden by the Auto rule");
        Assert.IsTrue(pinned.Diagnostics.Any(d => d.Code == "TFPGA105"), string.Join("\n", pinned.Diagnostics));
        StringAssert.Contains(pinned.Diagnostics.First(d => d.Code == "TFPGA105").Message, "<LayerParallelism Include=\"");
    }

    /// <summary>
    /// On Layers the suggestion moves a weight ROM; on the Engine it is one datapath per layer (the property) and then the
    /// same kind of items. The Engine project pins every layer's weights to block RAM: left at Auto, the engine's rule
    /// splits them between block RAM and LUTs, and the design fits.
    /// </summary>
    [TestMethod]
    [DataRow("Layers")]
    [DataRow("Engine")]
    public void UniformEightBitDModel64AllDistributedFailsAndTheSuggestedChangeFits(string architecture)
    {
        using var folder = new TestFolder();
        SyntheticModel.Write(folder.File("model"), new SyntheticModelSpec(Window: 8, InputFeatures: 3, DModel: 64, Heads: 1, FfnDim: 256, Rows: 300), seed: 5);
        string project = folder.File("Hardware.csproj");
        File.WriteAllText(project, "<Project />");
        var settings = new BuildSettings { OutputDir = folder.File("out"), DefaultBufferResource = "Distributed", Architecture = architecture };
        List<LayerItem> pinned = architecture == "Engine" ? [new LayerItem("*", new Dictionary<string, string> { ["Resource"] = "Block" })] : [];
        var failed = FpgaBuild.Run(new BuildRequest(project, ["model/synthetic.json"], [], [], [], settings) { WeightResources = pinned });

        Assert.IsFalse(failed.Success);
        var errors = failed.Diagnostics.Where(d => d.Severity == Severity.Error).ToList();
        Assert.IsTrue(errors.Count > 0 && errors.All(e => e.Code.StartsWith("TFPGA1", StringComparison.Ordinal)), string.Join("\n", failed.Diagnostics));
        string message = errors[0].Message;
        const string marker = "smallest change found that fits, ";
        StringAssert.Contains(message, marker);
        int start = message.IndexOf(": ", message.IndexOf(marker, StringComparison.Ordinal), StringComparison.Ordinal) + 2;
        string suggestion = message[start..message.LastIndexOf(" → ", StringComparison.Ordinal)];
        StringAssert.Contains(message, architecture == "Engine" ? "as a property and items to paste" : "as items to paste into the project: ");

        // Apply the suggestion as a user would: paste the items into the project (here: parse them as MSBuild would).
        var precisions = new List<LayerItem>();
        var buffers = new List<LayerItem>();
        var parallelism = new List<LayerItem>();
        var weights = new List<LayerItem>(pinned);
        var items = System.Xml.Linq.XElement.Parse("<ItemGroup>" + suggestion + "</ItemGroup>").Elements().ToList();
        Assert.IsTrue(items.Count > 0, suggestion);
        foreach (var element in items)
        {
            if (element.Name.LocalName == "FpgaArchitecture")
            {
                settings = settings with { Architecture = element.Value };
                continue;
            }
            var metadata = element.Attributes().Where(a => a.Name.LocalName != "Include").ToDictionary(a => a.Name.LocalName, a => a.Value);
            var item = new LayerItem(element.Attribute("Include")!.Value, metadata);
            switch (element.Name.LocalName)
            {
                case "BufferResource": buffers.Add(item); break;
                case "LayerParallelism": parallelism.Add(item); break;
                case "LayerPrecision": precisions.Add(item); break;
                case "WeightResource": weights.Add(item); break;
                default: Assert.Fail("not an item of the project: " + element); break;
            }
        }
        var fixedBuild = FpgaBuild.Run(new BuildRequest(project, ["model/synthetic.json"], precisions, buffers, parallelism, settings) { WeightResources = weights });
        Assert.IsTrue(fixedBuild.Success, suggestion + "\n" + string.Join("\n", fixedBuild.Diagnostics));
        StringAssert.Contains(File.ReadAllText(folder.File("out/report/resources.json")), "\"fits\": true");
        Assert.IsTrue(File.Exists(folder.File("out/hdl/sources.txt")));
        // The suggestion's test error is the changed design's, as its own build simulates it.
        using var simulation = System.Text.Json.JsonDocument.Parse(File.ReadAllText(folder.File("out/report/simulation.json")));
        double mse = simulation.RootElement.GetProperty("integer_vs_target").GetProperty("mse").GetDouble();
        StringAssert.Contains(message, "; test MSE " + mse.ToString("G4", System.Globalization.CultureInfo.InvariantCulture) + " (now ");
    }

    [TestMethod]
    public void BudgetAsWarningBuildsAndWarns()
    {
        using var folder = new TestFolder();
        var outcome = FpgaBuild.Run(Request(folder, asWarning: true, limit: "1"));
        Assert.IsTrue(outcome.Success, string.Join("\n", outcome.Diagnostics));
        Assert.IsTrue(outcome.Diagnostics.Any(d => d.Severity == Severity.Warning && d.Code == "TFPGA101"));
        Assert.IsTrue(File.Exists(folder.File("out/hdl/sources.txt")));
        StringAssert.Contains(outcome.Summary!, "cycles");
        string summary = File.ReadAllText(folder.File("out/report/summary.md"));
        StringAssert.Contains(summary, "| layer | bits (w/a) |");
        StringAssert.Contains(summary, "| encoder0.ffn.fc1 |");
        StringAssert.Contains(summary, "Does not fit");
        var svg = System.Xml.Linq.XDocument.Parse(File.ReadAllText(folder.File("out/report/resources.svg")));
        var labels = svg.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value).ToList();
        CollectionAssert.IsSubsetOf(new[] { "LUT", "LUTRAM", "FF", "BRAM18", "DSP" }, labels);
        Assert.IsTrue(svg.Descendants().Count(e => e.Name.LocalName == "rect") > 5, "stacked bars per layer");
    }

    [TestMethod]
    public void GenerousPartFitsWithoutDiagnostics()
    {
        using var folder = new TestFolder();
        var request = Request(folder, asWarning: false, limit: "100");
        request = request with { Settings = request.Settings with { Part = "xc7a100tcsg324-1" } };
        var outcome = FpgaBuild.Run(request);
        Assert.IsTrue(outcome.Success, string.Join("\n", outcome.Diagnostics));
        Assert.AreEqual(0, outcome.Diagnostics.Count, string.Join("\n", outcome.Diagnostics));
        StringAssert.Contains(File.ReadAllText(folder.File("out/report/resources.json")), "\"fits\": true");
    }
}
