using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using TransformerFpga.Explore;
using TransformerFpga.FineTuning;
using TransformerFpga.Hardware;
using TransformerFpga.Integer;
using TransformerFpga.Model;
using TransformerFpga.Pipeline;
using TransformerFpga.Trainer;

namespace TransformerFpga.Bench;

/// <summary>
/// `paper [--retrain] [--epochs N] [--jobs N] [--family DIR] [--dmodels 8,16,…] [--bits 4,6,8] [--objective Accuracy|Latency] [--finetune]`: the experiment of Ling, Qian, Schiele
/// (arXiv 2410.03294) on the sample's model family. For d_model 8, 16, …, 64 (ffn 4·d, one head, one
/// encoder layer, batch norm, window 24, pressure/temperature/wind → temperature, the sample's data and
/// trainer) and uniform 4, 6 and 8 bits it reports whether the design fits the XC7S15
///   - with the earlier template: every buffer Distributed (LUT RAM), one lane, multipliers on DSP48E1 —
///     the paper's predecessor hardware, stood in for by this generator and estimator with those choices;
///   - with the earlier template but Auto multipliers (buffers still all Distributed), which isolates
///     what the buffer choice alone changes (the all-DSP template never fits: every MAC layer has its
///     own MAC and requantizer multipliers, more than the part's 20 DSP48E1);
///   - with ours: Auto buffers and Auto multipliers resolved by <see cref="AutoMapping"/>, one lane;
///   - and the best design the FpgaExplore search finds (<see cref="BestExploredDesign"/>);
///   - with --finetune, the test MSE of the uniform design and of FpgaExplore's best after fine-tuning for their bits
///     (FpgaExploreFineTune with the FpgaFineTune defaults): minutes per configuration, hours for the whole family.
/// The trained models live in samples/SeattleTemperature/family/d&lt;N&gt;/; a missing one is trained
/// (never downloaded), and --retrain trains them all again.
/// </summary>
public static class PaperBenchmark
{
    public static readonly int[] DModels = [8, 16, 24, 32, 40, 48, 56, 64];
    public static readonly int[] UniformBits = [4, 6, 8];

    /// <summary>Epochs for every d_model (the sample itself was trained for 60; see docs/paper-experiment.md for the choice).</summary>
    public const int DefaultEpochs = 15;

    public const string Part = "xc7s15ftgb196-1";
    public const double ClockMHz = 100;

    /// <summary>The best design of the resource-aware mixed-precision search for one model and starting bitwidth.</summary>
    /// <param name="FineTunedTestMse">With FpgaExploreFineTune: the best design's test MSE after fine-tuning for its bits.</param>
    /// <param name="UniformFineTunedTestMse">With FpgaExploreFineTune: the same for the uniform design at the widest candidate bits.</param>
    public sealed record ExploredDesign(Resources Total, long Cycles, double TestMse, bool Fits, string Bits, double? FineTunedTestMse = null, double? UniformFineTunedTestMse = null);

    private sealed record Design(LayerPlan Plan, DesignEstimate Estimate);

    /// <param name="FineTunedMse">With --finetune: the uniform design's test MSE after fine-tuning for its bits; else null.</param>
    private sealed record Row(int DModel, int Bits, double FloatMse, double IntegerMse, Design Earlier, Design EarlierAutoMultipliers, Design Ours, Design Engine, ExploredDesign? Explored,
        double? FineTunedMse);

    public const string Usage = "paper [--retrain] [--epochs N] [--jobs N] [--family DIR] [--dmodels 8,16,…] [--bits 4,6,8] [--objective Accuracy|Latency (FpgaExplore's)] [--finetune (slow: minutes per configuration, hours for the family)]";

    public static int Run(string[] args)
    {
        bool retrain = false, fineTune = false;
        int epochs = DefaultEpochs, jobs = 2;
        int[] dModels = DModels, rowBits = UniformBits;
        string? family = null;
        string objective = "Accuracy";
        for (int i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--retrain": retrain = true; break;
                case "--epochs" when i + 1 < args.Length: epochs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--jobs" when i + 1 < args.Length: jobs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--family" when i + 1 < args.Length: family = args[++i]; break;
                case "--dmodels" when i + 1 < args.Length: dModels = args[++i].Split(',').Select(d => int.Parse(d, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--bits" when i + 1 < args.Length: rowBits = args[++i].Split(',').Select(b => int.Parse(b, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--objective" when i + 1 < args.Length: objective = args[++i]; break;
                case "--finetune": fineTune = true; break;
                default:
                    Console.Error.WriteLine($"unknown option '{args[i]}'; usage: {Usage}");
                    return 2;
            }
        }
        string sample = Path.Combine(RepositoryRoot(), "samples", "SeattleTemperature");
        family ??= Path.Combine(sample, "family");
        string data = Path.Combine(sample, "data");
        var clock = Stopwatch.StartNew();

        var missing = dModels.Where(d => retrain || !File.Exists(ModelPath(family, d))).ToList();
        if (missing.Count > 0 && Train(missing, family, data, epochs, jobs) != 0) return 1;
        var training = clock.Elapsed;

        var device = Device.FromPart(Part, null);
        var rows = new List<Row>();
        foreach (int d in dModels)
        {
            var model = clock.Elapsed;
            var config = ModelLoader.LoadConfig(ModelPath(family, d));
            var evaluation = new ModelEvaluation(config, TransformerWeights.Load(config));
            var estimator = new PlanEstimator(evaluation, config.Name, device, Part, ClockMHz, 100, ResourceCoefficients.Default);
            var names = IntegerTransformer.LayerNames(config);
            foreach (int bits in rowBits)
            {
                var uniform = new LayerBits(bits, bits);
                var quantized = evaluation.Quantize(_ => uniform);
                var result = evaluation.Evaluate(quantized);

                var earlierPlan = LayerPlan.From(names, _ => new LayerChoice(uniform, BufferResource.Distributed, 1, MultiplierMapping.Dsp));
                estimator.Add(earlierPlan, quantized);
                var earlier = new Design(earlierPlan, estimator.Estimate(quantized, earlierPlan));

                var distributed = AutoMapping.Resolve(LayerPlan.From(names, _ => new LayerChoice(uniform, BufferResource.Distributed, 1, MultiplierMapping.Auto)), estimator.Estimate);
                var earlierAutoMultipliers = new Design(distributed.Plan, distributed.Estimate);

                var auto = AutoMapping.Resolve(LayerPlan.From(names, _ => new LayerChoice(uniform, BufferResource.Auto, 1, MultiplierMapping.Auto)), estimator.Estimate);
                var ours = new Design(auto.Plan, auto.Estimate);

                // The Engine architecture as a build with FpgaEngineLanes left open resolves it (the same integer model: the same test MSE).
                var lanes = Engine.MacEngine.ValidLanes(config).Where(l => l <= Engine.MacEngine.DefaultMaxLanes).Max();
                var engineAuto = AutoMapping.ResolveEngineLanes(LayerPlan.From(names, _ => new LayerChoice(uniform, BufferResource.Auto, 1, MultiplierMapping.Auto))
                    .WithEngine(new EngineSettings(lanes, LanesExplicit: false)), estimator.Estimate);
                var engine = new Design(engineAuto.Plan, engineAuto.Estimate);

                var explored = BestExploredDesign(ModelPath(family, d), bits, fineTune, objective);
                // The exploration fine-tunes the uniform design at the row's bits only when some design qualifies.
                double? fineTuned = !fineTune ? null
                    : explored?.UniformFineTunedTestMse ?? FineTuneJob.Tune(evaluation, _ => uniform, new FineTuneOptions()).Test.IntegerVsTarget.Mse;
                rows.Add(new Row(d, bits, result.FloatVsTarget.Mse, result.IntegerVsTarget.Mse, earlier, earlierAutoMultipliers, ours, engine, explored, fineTuned));
            }
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"d_model {d}: evaluated and estimated in {(clock.Elapsed - model).TotalSeconds:F1} s"));
        }
        var evaluationTime = clock.Elapsed - training;

        Console.Write(Report(rows, family, epochs, device, fineTune, objective));
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"run time: {clock.Elapsed.TotalSeconds:F0} s ({(missing.Count > 0 ? $"training {missing.Count} model(s) {training.TotalSeconds:F0} s, " : "models loaded, ")}simulation and estimates {evaluationTime.TotalSeconds:F0} s)"));
        return 0;
    }

    /// <summary>
    /// FpgaExplore (objective Accuracy unless told otherwise) on the model with candidate bits up to <paramref name="bits"/>
    /// (4; 4;6; 4;6;8), as `dotnet build -t:FpgaExplore -p:FpgaExploreBits=…` runs it: its best design
    /// that fits, read back from report/explore.json, or null when it finds none.
    /// </summary>
    public static ExploredDesign? BestExploredDesign(string modelPath, int bits, bool fineTune = false, string objective = "Accuracy")
    {
        string output = Path.Combine(Path.GetTempPath(), "tfpga-paper-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        try
        {
            // The project sits where the sample's does, so that the model's ../../data paths stay inside it.
            string folder = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
            string project = Path.GetFullPath(Path.Combine(folder, "..", ".."));
            var build = new BuildRequest(Path.Combine(project, "paper.csproj"), [Path.GetRelativePath(project, Path.GetFullPath(modelPath))], [], [], [], new BuildSettings
            {
                // The project's own design (which the exploration measures too) is the row's uniform bits.
                OutputDir = output, DefaultWeightBits = bits.ToString(CultureInfo.InvariantCulture), DefaultActivationBits = bits.ToString(CultureInfo.InvariantCulture),
            });
            string candidates = string.Join(";", UniformBits.Where(b => b <= bits).Select(b => b.ToString(CultureInfo.InvariantCulture)));
            var outcome = DesignExploration.Run(new ExploreRequest(build, new ExploreSettings { Objective = objective, Bits = candidates, FineTune = fineTune ? "true" : "false" }));
            string report = Path.Combine(output, "report", "explore.json");
            foreach (var diagnostic in outcome.Diagnostics) Console.Error.WriteLine($"d {Path.GetFileName(folder)}, bits ≤ {bits}: {diagnostic.Code} {diagnostic.Message}");
            if (!File.Exists(report)) return null;
            using var json = JsonDocument.Parse(File.ReadAllText(report));
            var best = json.RootElement.GetProperty("designs").EnumerateArray().FirstOrDefault(x => x.GetProperty("best").GetBoolean());
            if (best.ValueKind != JsonValueKind.Object) return null;
            static double? FineTuned(JsonElement design) => design.TryGetProperty("finetuned", out var f) ? f.GetProperty("test_mse").GetDouble() : null;
            var uniform = json.RootElement.GetProperty("designs").EnumerateArray()
                .First(x => x.GetProperty("origin").GetString() == "uniform" && x.GetProperty("uniform_bits").GetInt32() == bits);
            var t = best.GetProperty("total");
            var layers = best.GetProperty("layers").EnumerateArray().Where(l => l.GetProperty("buffer_resource").GetString() != "Fused").ToList();
            var widths = layers.Select(l => l.GetProperty("activation_bits").GetInt32())
                .Concat(layers.Select(l => l.GetProperty("weight_bits").GetInt32())).Where(w => w is > 0 and < 16).Distinct().Order();
            return new ExploredDesign(new Resources(t.GetProperty("lut").GetInt32(), t.GetProperty("lutram").GetInt32(), t.GetProperty("ff").GetInt32(),
                    t.GetProperty("bram18").GetInt32(), t.GetProperty("dsp").GetInt32()),
                best.GetProperty("latency_cycles").GetInt64(), best.GetProperty("integer_vs_target").GetProperty("mse").GetDouble(), best.GetProperty("fits").GetBoolean(),
                string.Join("/", widths), FineTuned(best), FineTuned(uniform));
        }
        finally
        {
            try { Directory.Delete(output, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static string ModelPath(string family, int d) => Path.Combine(family, "d" + d.ToString(CultureInfo.InvariantCulture), "forecaster.json");

    /// <summary>Trains the missing models with the sample's trainer and command (d_model varies, ffn = 4·d); <paramref name="jobs"/> at a time.</summary>
    private static int Train(List<int> dModels, string family, string data, int epochs, int jobs)
    {
        Console.Error.WriteLine($"training d_model {string.Join(", ", dModels)} ({epochs} epochs each, {jobs} at a time)");
        int failures = 0;
        var console = new object();
        // Largest first, so that the parallel jobs end close together.
        Parallel.ForEach(dModels.OrderByDescending(d => d), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, jobs) }, d =>
        {
            string dText = d.ToString(CultureInfo.InvariantCulture);
            string output = Path.Combine(family, "d" + dText);
            var options = TrainerOptions.Parse([
                "--data-dir", data, "--out", output, "--d-model", dText, "--heads", "1", "--ffn", (4 * d).ToString(CultureInfo.InvariantCulture),
                "--layers", "1", "--norm", "batch", "--epochs", epochs.ToString(CultureInfo.InvariantCulture), "--seed", "1"]);
            var log = new StringWriter(CultureInfo.InvariantCulture);
            int code = TransformerFpga.Trainer.Training.TrainAndEvaluate(options, log);
            File.WriteAllText(Path.Combine(output, "training.log"), log.ToString());
            lock (console) Console.Error.Write(log.ToString());
            if (code != 0) Interlocked.Increment(ref failures);
        });
        return failures;
    }

    private static string Report(List<Row> rows, string family, int epochs, Device device, bool fineTune, string objective)
    {
        var text = new StringBuilder();
        string Line(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
        text.AppendLine(Line($"Models: {Path.GetRelativePath(RepositoryRoot(), family).Replace('\\', '/')}/d<N>/ (ffn 4·d, 1 head, 1 encoder layer, batch norm, window 24; trained for {epochs} epochs, seed 1, unless loaded from an earlier run with another count). Device {Part} @ {ClockMHz:0} MHz, one lane everywhere."));
        text.AppendLine("Earlier template = every buffer Distributed (LUT RAM), multipliers on DSP48E1, uniform bits (this generator and estimator with those choices stand in for the predecessor's hardware).");
        text.AppendLine("Earlier + Auto multipliers = the earlier template with multipliers moved to LUTs by the estimator while over budget (buffers stay Distributed): the buffer choice alone is the difference to ours.");
        text.AppendLine("Ours = Auto buffers and Auto multipliers resolved by the estimator, uniform bits. MSE in °C² on the 1,735 test windows.");
        text.AppendLine("Engine = FpgaArchitecture=Engine with FpgaEngineLanes left open (the most lanes up to 16 with which it fits, the engine's Auto rule), uniform bits: the same integer model as ours, so the same integer MSE.");
        text.AppendLine($"FpgaExplore = the best design (objective {objective}) of `dotnet build -t:FpgaExplore` with FpgaExploreBits up to the row's bits (4; 4;6; 4;6;8): bits per layer, buffers, lanes and multipliers searched; its bits, measured test MSE, resources and cycles.");
        if (fineTune)
            text.AppendLine("Fine-tuned = the test MSE after quantization-aware fine-tuning for the design's bits (FpgaFineTune's code and defaults, through FpgaExploreFineTune): of the uniform design in its column, of FpgaExplore's best design in its cell.");
        text.AppendLine();
        // Without --finetune the table is the one of earlier runs, column for column.
        string tunedHeader = fineTune ? " fine-tuned MSE |" : "", tunedAlignment = fineTune ? "---:|" : "";
        text.AppendLine($"| d_model | float MSE | bits | integer MSE |{tunedHeader} earlier template | earlier + Auto multipliers | ours | cycles | Engine: fits, lanes, cycles | FpgaExplore best design |");
        text.AppendLine($"|---:|---:|---:|---:|{tunedAlignment}---|---|---|---:|---|---|");
        foreach (var r in rows)
        {
            // One lane everywhere: the buffer and multiplier choices do not change the latency.
            var cycles = new[] { r.Earlier, r.EarlierAutoMultipliers, r.Ours }.Select(x => x.Estimate.LatencyCycles).Distinct().Select(c => Line($"{c:N0}"));
            string tuned = fineTune ? Line($" {r.FineTunedMse:0.0000} |") : "";
            text.AppendLine(Line($"| {r.DModel} | {r.FloatMse:0.0000} | {r.Bits} | {r.IntegerMse:0.0000} |{tuned} {Fit(r.Earlier.Estimate)} | {Fit(r.EarlierAutoMultipliers.Estimate)} | {Fit(r.Ours.Estimate)} | {string.Join(" / ", cycles)} | {EngineCell(r.Engine)} | {Explored(r.Explored)} |"));
        }
        text.AppendLine();
        text.AppendLine($"Resources (LUT / LUTRAM / FF / BRAM18 / DSP; {device.Name.ToUpperInvariant()}: {Amounts(device.Capacity)}) and the choices Auto made:");
        text.AppendLine();
        text.AppendLine("| d_model | bits | earlier template | earlier + Auto multipliers | ours | ours: Block buffers, LUT-multiplier layers |");
        text.AppendLine("|---:|---:|---|---|---|---|");
        foreach (var r in rows)
        {
            int block = r.Ours.Estimate.Layers.Count(l => l.BufferResource == "Block");
            int lut = r.Ours.Plan.LayerNames.Count(n => r.Ours.Plan[n].Multiplier == MultiplierMapping.Lut);
            text.AppendLine(Line($"| {r.DModel} | {r.Bits} | {Amounts(r.Earlier.Estimate.Total)} | {Amounts(r.EarlierAutoMultipliers.Estimate.Total)} | {Amounts(r.Ours.Estimate.Total)} | {block}, {lut} |"));
        }
        text.AppendLine();

        static string List(List<Row> rows) => rows.Count > 0 ? " — " + string.Join(", ", rows.Select(r => string.Create(CultureInfo.InvariantCulture, $"d {r.DModel} at {r.Bits} bit"))) : "";
        var rescued = rows.Where(r => !r.Earlier.Estimate.Fits && r.Ours.Estimate.Fits).ToList();
        var rescuedByBuffers = rows.Where(r => !r.EarlierAutoMultipliers.Estimate.Fits && r.Ours.Estimate.Fits).ToList();
        text.AppendLine(Line($"Fit with the earlier template: {rows.Count(r => r.Earlier.Estimate.Fits)} of {rows.Count}; with Auto multipliers: {rows.Count(r => r.EarlierAutoMultipliers.Estimate.Fits)}; with ours: {rows.Count(r => r.Ours.Estimate.Fits)}; with the Engine architecture: {rows.Count(r => r.Engine.Estimate.Fits)}."));
        text.AppendLine(Line($"Configurations that do not fit with the earlier template but fit with ours (buffer and multiplier choice): {rescued.Count} of {rows.Count}") + List(rescued) + ".");
        text.AppendLine(Line($"Of those, configurations that only the buffer choice makes deployable (no fit with all buffers Distributed even with Auto multipliers): {rescuedByBuffers.Count}") + List(rescuedByBuffers) + ".");
        var explored = rows.Where(r => r.Explored?.Fits == true).ToList();
        var onlyMixed = explored.Where(r => !r.Ours.Estimate.Fits).ToList();
        int exploredNotEarlier = explored.Count(r => !r.Earlier.Estimate.Fits);
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Configurations FpgaExplore makes deployable (bits up to the row's, mixed per layer; buffers, lanes and multipliers searched): {explored.Count} of {rows.Count}; of those, not deployable with the earlier template: {exploredNotEarlier}; not deployable with uniform bits even with our buffer and multiplier choice, so only mixed precision makes them fit: {onlyMixed.Count}") + List(onlyMixed) + ".");
        return text.ToString();
    }

    /// <summary>"yes" or "no: LUT +1,234, DSP +28" (the amount over the device's capacity).</summary>
    private static string Fit(DesignEstimate e) =>
        e.Fits ? "yes" : "no: " + string.Join(", ", e.OverBudget.Select(o => string.Create(CultureInfo.InvariantCulture, $"{o.Resource} +{o.Used - o.Available:N0}")));

    /// <summary>"yes, 16 lanes (DSP 9 + LUT 7), 10,204" or the Fit text, the lanes and the cycles.</summary>
    private static string EngineCell(Design d)
    {
        var row = d.Estimate.Layers.Single(l => l.Name == ResourceModel.EngineRow);
        return string.Create(CultureInfo.InvariantCulture, $"{Fit(d.Estimate)}, {row.Lanes} lanes ({row.Multiplier}), {d.Estimate.LatencyCycles:N0}");
    }

    private static string Amounts(Resources t) => string.Create(CultureInfo.InvariantCulture, $"{t.Lut:N0} / {t.LutRam:N0} / {t.Ff:N0} / {t.Bram18} / {t.Dsp}");

    private static string Explored(ExploredDesign? e) => e is null
        ? "—"
        : string.Create(CultureInfo.InvariantCulture, $"MSE {e.TestMse:0.0000}{(e.FineTunedTestMse is double t ? " (fine-tuned " + t.ToString("0.0000", CultureInfo.InvariantCulture) + ")" : "")}; bits {e.Bits}; {Amounts(e.Total)}; {e.Cycles:N0} cycles");

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(Directory.GetCurrentDirectory()); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "TransformerFpga.Build.sln"))) return directory.FullName;
        throw new InvalidOperationException("run the benchmark from inside the repository (no TransformerFpga.Build.sln above the current folder)");
    }
}
