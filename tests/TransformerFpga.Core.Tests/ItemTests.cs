using TransformerFpga.Data;
using TransformerFpga.Diagnostics;
using TransformerFpga.Hardware;
using TransformerFpga.Integer;
using TransformerFpga.Model;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Tests;

/// <summary>
/// How LayerPrecision, BufferResource and LayerParallelism items select layers, and the diagnostics that keep
/// an item from vanishing or doing nothing unnoticed.
/// </summary>
[TestClass]
public sealed class ItemTests
{
    private static readonly string[] Encoder0 =
    [
        "encoder0.attn.q", "encoder0.attn.k", "encoder0.attn.v", "encoder0.attn.scores", "encoder0.attn.softmax", "encoder0.attn.context",
        "encoder0.attn.out", "encoder0.add1", "encoder0.norm1", "encoder0.ffn.fc1", "encoder0.ffn.relu", "encoder0.ffn.fc2", "encoder0.add2", "encoder0.norm2",
    ];

    private sealed class Project : IDisposable
    {
        private readonly TestFolder _folder = new();

        public Project(int encoderLayers = 1)
        {
            ModelPath = SyntheticModel.Write(_folder.File("model"), new SyntheticModelSpec(EncoderLayers: encoderLayers), seed: 5);
            ProjectFile = _folder.File("Hardware.csproj");
            File.WriteAllText(ProjectFile, "<Project />");
            Layers = IntegerTransformer.LayerNames(ModelLoader.LoadConfig(ModelPath));
        }

        public string ModelPath { get; }
        public string ProjectFile { get; }
        public IReadOnlyList<string> Layers { get; }
        public string InFolder(string relative) => _folder.File(relative);

        public BuildRequest Request(LayerItem[]? precisions = null, LayerItem[]? buffers = null, LayerItem[]? parallelism = null, string architecture = "Engine") =>
            new(ProjectFile, ["model/synthetic.json"], precisions ?? [], buffers ?? [], parallelism ?? [], new BuildSettings { OutputDir = _folder.File("out"), BudgetAsWarning = true, Architecture = architecture });

        public LayerPlan Plan(LayerItem[]? precisions = null, LayerItem[]? buffers = null, LayerItem[]? parallelism = null) =>
            LayerPlan.Resolve(Layers, Request(precisions, buffers, parallelism), ProjectFile);

        public void Dispose() => _folder.Dispose();
    }

    private static LayerItem Item(string include, params (string Key, string Value)[] metadata) =>
        new(include, metadata.ToDictionary(m => m.Key, m => m.Value));

    private static FpgaException Throws(Action action)
    {
        try { action(); }
        catch (FpgaException e) { return e; }
        Assert.Fail("no FpgaException");
        return null!;
    }

    // ---- selection ----

    [TestMethod]
    public void IncludeIsALayerNameOrADottedPrefix()
    {
        using var project = new Project(encoderLayers: 2);
        CollectionAssert.AreEqual(new[] { "encoder0.ffn.fc1", "encoder0.ffn.relu", "encoder0.ffn.fc2" }, LayerSelection.Matches(project.Layers, "encoder0.ffn").ToArray());
        CollectionAssert.AreEqual(Encoder0, LayerSelection.Matches(project.Layers, "encoder0").ToArray());
        CollectionAssert.AreEqual(new[] { "head" }, LayerSelection.Matches(project.Layers, "head").ToArray());
        // A prefix ends at a dot: "encoder0.ffn.fc" is no layer and no prefix of one, "encoder" selects nothing either.
        Assert.AreEqual(0, LayerSelection.Matches(project.Layers, "encoder0.ffn.fc").Count);
        Assert.AreEqual(0, LayerSelection.Matches(project.Layers, "encoder").Count);
        // An Include with escaped wildcards (%2A arrives as *) is a pattern over the whole name.
        CollectionAssert.AreEqual(new[] { "encoder0.ffn.fc1", "encoder1.ffn.fc1" }, LayerSelection.Matches(project.Layers, "encoder?.ffn.fc1").ToArray());

        var plan = project.Plan(precisions: [Item("encoder1", ("WeightBits", "5"))]);
        foreach (string layer in project.Layers)
            Assert.AreEqual(layer.StartsWith("encoder1.", StringComparison.Ordinal) ? 5 : 8, plan.Bits(layer).WeightBits, layer);
    }

    [TestMethod]
    public void LayersMetadataHoldsPatternsSeparatedBySemicolons()
    {
        using var project = new Project(encoderLayers: 2);
        var plan = project.Plan(
            precisions: [Item("narrow-ffn", ("Layers", "encoder*.ffn.fc? ; head"), ("WeightBits", "4"))],
            parallelism: [Item("wide", ("Layers", "encoder1.attn"), ("Lanes", "2"))]);
        var narrowed = project.Layers.Where(l => plan.Bits(l).WeightBits == 4).ToArray();
        CollectionAssert.AreEqual(new[] { "encoder0.ffn.fc1", "encoder0.ffn.fc2", "encoder1.ffn.fc1", "encoder1.ffn.fc2", "head" }, narrowed);
        CollectionAssert.AreEqual(project.Layers.Where(l => l.StartsWith("encoder1.attn.", StringComparison.Ordinal)).ToArray(),
            project.Layers.Where(l => plan[l].Lanes == 2).ToArray(), "a pattern without wildcards is a name or dotted prefix, as in Include");
        // The label is not matched against layer names.
        Assert.IsFalse(project.Layers.Contains("narrow-ffn"));

        var e = Throws(() => project.Plan(precisions: [Item("typo", ("Layers", "encoder*.ffn.*;haed"), ("WeightBits", "4"))]));
        Assert.AreEqual(ErrorCodes.ItemMatchesNoLayer, e.Code);
        StringAssert.Contains(e.Message, "'haed'");
    }

    [TestMethod]
    public void AnItemThatIsAFileOfTheProjectIsAGlobError()
    {
        using var project = new Project();
        File.WriteAllText(project.InFolder("build.log"), "");
        var e = Throws(() => project.Plan(precisions: [Item("build.log", ("WeightBits", "4"))]));
        Assert.AreEqual(ErrorCodes.ItemExpandedAsFileGlob, e.Code, e.Message);
        StringAssert.Contains(e.Message, "file glob");
        StringAssert.Contains(e.Message, "Layers=");
        StringAssert.Contains(e.Message, "%2A");

        // A label of a Layers item is expanded by MSBuild too.
        e = Throws(() => project.Plan(buffers: [Item("build.log", ("Layers", "head"), ("Resource", "Block"))]));
        Assert.AreEqual(ErrorCodes.ItemExpandedAsFileGlob, e.Code, e.Message);

        // An item from a ** expansion (MSBuild sets RecursiveDir) even when the file is named like a layer.
        e = Throws(() => project.Plan(parallelism: [Item("head", ("Lanes", "1")) with { FromFileWildcard = true }]));
        Assert.AreEqual(ErrorCodes.ItemExpandedAsFileGlob, e.Code, e.Message);

        // A name that is not a file stays a plain "matches no layer".
        e = Throws(() => project.Plan(precisions: [Item("encoder0.ffn.fc3", ("WeightBits", "4"))]));
        Assert.AreEqual(ErrorCodes.ItemMatchesNoLayer, e.Code, e.Message);
    }

    [TestMethod]
    public void AnUnescapedWildcardInTheProjectFileIsAnErrorAtItsLineEvenWhenTheItemVanished()
    {
        using var project = new Project();
        File.WriteAllText(project.ProjectFile, """
            <Project>
              <ItemGroup>
                <LayerPrecision Include="encoder0.ffn.%2A" WeightBits="6" />
                <LayerParallelism Include="encoder0.attn.*" Lanes="2" />
              </ItemGroup>
            </Project>
            """);
        // MSBuild expanded encoder0.attn.* to no file: the task sees only the escaped item.
        var e = Throws(() => project.Plan(precisions: [Item("encoder0.ffn.*", ("WeightBits", "6"))]));
        Assert.AreEqual(ErrorCodes.ItemExpandedAsFileGlob, e.Code, e.Message);
        Assert.AreEqual(4, e.Line);
        StringAssert.Contains(e.Message, "Layers=\"encoder0.attn.*\"");
        StringAssert.Contains(e.Message, "Include=\"encoder0.attn.%2A\"");
    }

    // ---- metadata ----

    [TestMethod]
    public void UnknownMetadataIsAnErrorWithTheClosestName()
    {
        using var project = new Project();
        var e = Throws(() => project.Plan(precisions: [Item("head", ("WeightBit", "4"))]));
        Assert.AreEqual(ErrorCodes.UnknownItemMetadata, e.Code);
        StringAssert.Contains(e.Message, "did you mean WeightBits?");
        e = Throws(() => project.Plan(buffers: [Item("head", ("Resorce", "Block"))]));
        Assert.AreEqual(ErrorCodes.UnknownItemMetadata, e.Code, "checked before the missing Resource is reported");
        StringAssert.Contains(e.Message, "did you mean Resource?");
        e = Throws(() => project.Plan(parallelism: [Item("head", ("Multipler", "Lut"))]));
        StringAssert.Contains(e.Message, "did you mean Multiplier?");
        e = Throws(() => project.Plan(parallelism: [Item("head", ("Colour", "blue"))]));
        Assert.AreEqual(ErrorCodes.UnknownItemMetadata, e.Code);
        Assert.IsFalse(e.Message.Contains("did you mean", StringComparison.Ordinal), e.Message);

        // Well-known metadata, the Layers metadata and any casing of a known name are fine.
        var plan = project.Plan(precisions: [Item("head", ("FullPath", "/x/head"), ("Identity", "head"), ("weightbits", "5"))]);
        Assert.AreEqual(5, plan.Bits("head").WeightBits);
    }

    [TestMethod]
    public void ASettingWithoutEffectOnItsLayersWarnsAndOneWithEffectDoesNot()
    {
        using var project = new Project();
        File.WriteAllText(project.ProjectFile, """
            <Project>
              <ItemGroup>
                <LayerPrecision Include="encoder0.ffn" WeightBits="6" />
                <LayerPrecision Include="encoder0.ffn.relu" ActivationBits="6" />
                <LayerPrecision Include="encoder0.attn.softmax" WeightBits="4" ActivationBits="8" />
                <LayerParallelism Include="encoder0.norm1" Multiplier="Lut" />
                <LayerParallelism Include="encoder0.add1" Lanes="2" Multiplier="Lut" />
              </ItemGroup>
            </Project>
            """);
        var outcome = FpgaBuild.Run(project.Request(
            precisions: [Item("encoder0.ffn", ("WeightBits", "6")), Item("encoder0.ffn.relu", ("ActivationBits", "6")),
                Item("encoder0.attn.softmax", ("WeightBits", "4"), ("ActivationBits", "8"))],
            parallelism: [Item("encoder0.norm1", ("Multiplier", "Lut")), Item("encoder0.add1", ("Lanes", "2"), ("Multiplier", "Lut"))],
            architecture: "Layers"));
        Assert.IsTrue(outcome.Success, string.Join("\n", outcome.Diagnostics));
        var warnings = outcome.Diagnostics.Where(d => d.Code == ErrorCodes.SettingWithoutEffect).ToList();
        Assert.IsTrue(warnings.All(w => w.Severity == Severity.Warning));
        var expected = new[]
        {
            (4, "LayerPrecision 'encoder0.ffn.relu' sets ActivationBits, which has no effect"),
            (5, "LayerPrecision 'encoder0.attn.softmax' sets WeightBits, which has no effect"),
            (7, "LayerParallelism 'encoder0.add1' sets Lanes, which has no effect"),
            (7, "LayerParallelism 'encoder0.add1' sets Multiplier, which has no effect"),
        };
        Assert.AreEqual(expected.Length, warnings.Count, string.Join("\n", warnings));
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i].Item1, warnings[i].Line, warnings[i].Message);
            StringAssert.StartsWith(warnings[i].Message, expected[i].Item2);
        }
        StringAssert.Contains(warnings[0].Message, "fused into encoder0.ffn.fc1");
        StringAssert.Contains(warnings[1].Message, "has no weights");
    }

    /// <summary>
    /// On the engine, the batch norm after a residual add runs in the write-back of the linear layer before them: the
    /// norm's multiplier mapping and the memories of the outputs passed on (the linear's, the add's) change nothing,
    /// and the warning names where the memory is set; the norm's memory takes effect.
    /// </summary>
    [TestMethod]
    public void SettingsOfLayersInTheEnginesWriteBackWarnWhereTheyChangeNothing()
    {
        using var project = new Project();
        File.WriteAllText(project.ProjectFile, """
            <Project>
              <ItemGroup>
                <BufferResource Include="encoder0.add1" Resource="Block" />
                <BufferResource Include="encoder0.norm1" Resource="Block" />
                <LayerParallelism Include="encoder0.norm1" Multiplier="Lut" />
              </ItemGroup>
            </Project>
            """);
        var outcome = FpgaBuild.Run(project.Request(
            buffers: [Item("encoder0.add1", ("Resource", "Block")), Item("encoder0.norm1", ("Resource", "Block"))],
            parallelism: [Item("encoder0.norm1", ("Multiplier", "Lut"))]));
        Assert.IsTrue(outcome.Success, string.Join("\n", outcome.Diagnostics));
        var warnings = outcome.Diagnostics.Where(d => d.Code == ErrorCodes.SettingWithoutEffect).ToList();
        Assert.AreEqual(2, warnings.Count, string.Join("\n", warnings));
        Assert.AreEqual(3, warnings[0].Line);
        StringAssert.Contains(warnings[0].Message, "passes its output to encoder0.norm1 in the engine's write-back");
        Assert.AreEqual(5, warnings[1].Line);
        StringAssert.Contains(warnings[1].Message, "runs in the write-back of encoder0.attn.out");
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(project.InFolder("out/report/resources.json")));
        var rows = json.RootElement.GetProperty("layers").EnumerateArray().ToDictionary(l => l.GetProperty("name").GetString()!, l => l.GetProperty("buffer_resource").GetString());
        Assert.AreEqual("Block", rows["encoder0.norm1"]);
        Assert.AreEqual("Fused", rows["encoder0.add1"]);
        Assert.AreEqual("Fused", rows["encoder0.attn.out"]);
    }

    /// <summary>
    /// WeightResource items on the engine's layers put each layer's weights in the memory they name (the engine has a
    /// weight ROM per memory); on a layer whose b operand is a buffer (the scores) the item warns.
    /// </summary>
    [TestMethod]
    public void WeightResourceOnEngineLayersPutsEachLayersWeightsWhereItSays()
    {
        using var project = new Project();
        File.WriteAllText(project.ProjectFile, """
            <Project>
              <ItemGroup>
                <WeightResource Include="encoder0.ffn.fc1" Resource="Distributed" />
                <WeightResource Include="encoder0.attn.q" Resource="Block" />
                <WeightResource Include="encoder0.attn.scores" Resource="Distributed" />
              </ItemGroup>
            </Project>
            """);
        var outcome = FpgaBuild.Run(project.Request() with
        {
            WeightResources = [Item("encoder0.ffn.fc1", ("Resource", "Distributed")), Item("encoder0.attn.q", ("Resource", "Block")), Item("encoder0.attn.scores", ("Resource", "Distributed"))],
        });
        Assert.IsTrue(outcome.Success, string.Join("\n", outcome.Diagnostics));
        var warnings = outcome.Diagnostics.Where(d => d.Code == ErrorCodes.SettingWithoutEffect).ToList();
        Assert.AreEqual(1, warnings.Count, string.Join("\n", warnings));
        Assert.AreEqual(5, warnings[0].Line);
        StringAssert.Contains(warnings[0].Message, "encoder0.attn.scores has no weight ROM");
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(project.InFolder("out/report/resources.json")));
        var rows = json.RootElement.GetProperty("layers").EnumerateArray().ToDictionary(l => l.GetProperty("name").GetString()!,
            l => l.GetProperty("rom").ValueKind == System.Text.Json.JsonValueKind.Null ? null : l.GetProperty("rom").GetString());
        Assert.AreEqual("LUT", rows["encoder0.ffn.fc1"]);
        Assert.AreEqual("Block", rows["encoder0.attn.q"]);
        Assert.IsNull(rows["encoder0.attn.scores"]);
        // each ROM holds its layers' words: fc1's in LUTs, q's in block RAM
        string engine = File.ReadAllText(Directory.GetFiles(project.InFolder("out/hdl"), "*_engine.vhd").Single());
        var config = ModelLoader.LoadConfig(project.ModelPath);
        int lanes = int.Parse(System.Text.RegularExpressions.Regex.Match(engine, @"constant LANES\s*: positive := (\d+);").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        StringAssert.Contains(engine, $"constant W_LUT_DEPTH : positive := {config.FfnDim * config.DModel / lanes};");
        StringAssert.Contains(engine, $"constant W_BRAM_DEPTH : positive := {config.DModel * config.DModel / lanes};");
    }

    // ---- tensors ----

    private static (ModelConfig Config, Dictionary<string, Tensor> Tensors) PyTorchModel(TestFolder folder)
    {
        var config = ModelLoader.LoadConfig(SyntheticModel.Write(folder.Path, new SyntheticModelSpec(), seed: 3, pytorchNames: true));
        return (config, new Dictionary<string, Tensor>(SafeTensors.Read(config.WeightsPath), StringComparer.Ordinal));
    }

    [TestMethod]
    public void UnusedTensorsAreListedUnderTheFilesNames()
    {
        using var folder = new TestFolder();
        var (config, tensors) = PyTorchModel(folder);
        Assert.AreEqual(0, TransformerWeights.FromTensors(config, tensors, "w.safetensors").UnusedTensors.Count);
        tensors["transformer_encoder.layers.0.norm1.num_batches_tracked"] = new Tensor([1], [7]);
        tensors["aux.weight"] = new Tensor([2], [1, 2]);
        var weights = TransformerWeights.FromTensors(config, tensors, "w.safetensors");
        CollectionAssert.AreEqual(new[] { "aux.weight", "transformer_encoder.layers.0.norm1.num_batches_tracked" }, weights.UnusedTensors.ToArray());
    }

    [TestMethod]
    public void AFinalEncoderNormIsACodedErrorUntilSupported()
    {
        foreach (string name in new[] { "transformer_encoder.norm.weight", "encoder.norm.bias", "norm.weight" })
        {
            using var folder = new TestFolder();
            var (config, tensors) = PyTorchModel(folder);
            tensors[name] = new Tensor([config.DModel], new float[config.DModel]);
            var e = Throws(() => TransformerWeights.FromTensors(config, tensors, "w.safetensors"));
            Assert.AreEqual(ErrorCodes.UnsupportedTensor, e.Code, name + ": " + e.Message);
            StringAssert.Contains(e.Message, $"'{name}'");
            StringAssert.Contains(e.Message, "nn.TransformerEncoder(norm=");
        }
        // A per-layer norm named "norm" is no final norm: listed as unused, not refused.
        using var other = new TestFolder();
        var (c, t) = PyTorchModel(other);
        t["transformer_encoder.layers.0.norm.weight"] = new Tensor([c.DModel], new float[c.DModel]);
        CollectionAssert.Contains(TransformerWeights.FromTensors(c, t, "w.safetensors").UnusedTensors.ToArray(), "transformer_encoder.layers.0.norm.weight");
    }

    [TestMethod]
    public void TensorErrorsUseTheFilesNamesAndListUnusedTensors()
    {
        using var folder = new TestFolder();
        var (config, tensors) = PyTorchModel(folder);
        tensors["transformer_encoder.layers.0.linear1.weight"] = new Tensor([3, 3], new float[9]);
        var e = Throws(() => TransformerWeights.FromTensors(config, tensors, "w.safetensors"));
        Assert.AreEqual(ErrorCodes.TensorMissingOrShape, e.Code);
        StringAssert.Contains(e.Message, "'transformer_encoder.layers.0.linear1.weight'");
        Assert.IsFalse(e.Message.Contains("ffn.fc1", StringComparison.Ordinal), e.Message);

        (config, tensors) = PyTorchModel(folder);
        tensors["transformer_encoder.layers.0.self_attn.in_proj_weight"].Data[config.DModel * config.DModel + 1] = float.NaN;
        e = Throws(() => TransformerWeights.FromTensors(config, tensors, "w.safetensors"));
        Assert.AreEqual(ErrorCodes.TensorNotFinite, e.Code);
        StringAssert.Contains(e.Message, "'transformer_encoder.layers.0.self_attn.in_proj_weight (its K third)'");

        (config, tensors) = PyTorchModel(folder);
        var bias = tensors["transformer_encoder.layers.0.linear2.bias"];
        tensors.Remove("transformer_encoder.layers.0.linear2.bias");
        tensors["transformer_encoder.layers.0.linear2.b"] = bias;
        e = Throws(() => TransformerWeights.FromTensors(config, tensors, "w.safetensors"));
        Assert.AreEqual(ErrorCodes.TensorMissingOrShape, e.Code);
        StringAssert.Contains(e.Message, "linear2.bias' as nn.TransformerEncoderLayer saves it");
        StringAssert.Contains(e.Message, "tensors of the file this model does not use: transformer_encoder.layers.0.linear2.b");
    }

    // ---- messages ----

    [TestMethod]
    public void MissingValuesInACsvGetTheirOwnMessageWithLineAndColumn()
    {
        foreach (var (cell, shown) in new[] { ("NaN", "'NaN'"), ("nan", "'nan'"), ("-nan", "'-nan'"), ("", "an empty cell"), ("  ", "an empty cell") })
        {
            string[] lines = ["hour,pressure,temperature", "0,1015.0,12.5", $"1,1015.5,{cell}", "2,1016.0,12.9"];
            var e = Throws(() => CsvSeries.Parse(lines, "d.csv", ["pressure", "temperature"], ["temperature"]));
            Assert.AreEqual(ErrorCodes.DataMalformed, e.Code);
            Assert.AreEqual(3, e.Line, cell);
            Assert.AreEqual(10, e.Column, $"'{cell}': the cell starts after \"1,1015.5,\"");
            StringAssert.Contains(e.Message, "column 3 ('temperature') holds a missing value (" + shown + ")");
        }
        var other = Throws(() => CsvSeries.Parse(["a,b", "1,abc"], "d.csv", ["a", "b"], ["b"]));
        StringAssert.Contains(other.Message, "is not a finite number");
        Assert.AreEqual(3, other.Column);
    }

    [TestMethod]
    public void AnUnknownPartSuggestsTheClosestKnownOne()
    {
        var e = Throws(() => Device.FromPart("xc7s15ftgb169-1", "p.csproj"));
        Assert.AreEqual(ErrorCodes.UnknownPart, e.Code);
        StringAssert.Contains(e.Message, "did you mean xc7s15ftgb196-1?");
        e = Throws(() => Device.FromPart("xc7a35tcsg342-2", "p.csproj"));
        StringAssert.Contains(e.Message, "did you mean xc7a35tcsg324-2?");
        e = Throws(() => Device.FromPart("ice40up5k", "p.csproj"));
        Assert.IsFalse(e.Message.Contains("did you mean", StringComparison.Ordinal), e.Message);
    }

    [TestMethod]
    public void ThePercentChangeHasOneSign()
    {
        Assert.AreEqual("0.0 %", TransformerFpga.Reports.Formats.SignedPercent(-0.04));
        Assert.AreEqual("0.0 %", TransformerFpga.Reports.Formats.SignedPercent(0.04));
        Assert.AreEqual("0.0 %", TransformerFpga.Reports.Formats.SignedPercent(0));
        Assert.AreEqual("-0.1 %", TransformerFpga.Reports.Formats.SignedPercent(-0.06));
        Assert.AreEqual("+79.6 %", TransformerFpga.Reports.Formats.SignedPercent(79.6));
    }
}
