using System.Globalization;
using System.Security;
using System.Text;
using System.Text.Json;
using TransformerFpga.FineTuning;
using TransformerFpga.Hardware;
using TransformerFpga.Hdl;
using TransformerFpga.Pipeline;

namespace TransformerFpga.Explore;

/// <summary>
/// report/explore.json (every measured design with its choices, estimate, cycles and simulated error;
/// which are on the Pareto front; the best), report/explore.md with report/explore.svg (the front:
/// error over area, latency as colour, the uniform designs marked), and report/explore.props (the
/// best design as items to import). Invariant culture throughout; the same result gives the same bytes.
/// </summary>
public static class ExploreReport
{
    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);

    private static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    public static string Json(ExploreResult r)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("top", r.Top);
            json.WriteString("part", r.Part);
            json.WriteNumber("clock_mhz", r.ClockMHz);
            json.WriteNumber("utilization_limit_percent", r.LimitPercent);
            r.Device.Capacity.WriteObject(json, "capacity");
            r.Budget.WriteObject(json, "budget");
            json.WriteString("objective", r.Options.Objective.ToString());
            json.WriteStartArray("bits");
            foreach (int b in r.Options.Bits) json.WriteNumberValue(b);
            json.WriteEndArray();
            json.WriteNumber("max_error_increase_percent", r.Options.MaxErrorIncreasePercent);
            json.WriteString("error_metric", "integer_vs_target.mse");
            json.WriteString("chosen_by", "validation_mse");
            json.WriteNumber("validation_windows", r.Sensitivity.Windows);
            json.WriteNumber("reference_bits", ExploreOptions.ReferenceBits);
            json.WriteNumber("reference_error", r.ReferenceError);
            json.WriteNumber("validation_reference_error", r.ValidationReferenceError);
            if (double.IsFinite(r.ErrorLimit)) json.WriteNumber("error_limit", r.ErrorLimit);
            else json.WriteNull("error_limit");
            if (r.Best is int best) json.WriteNumber("best", best);
            else json.WriteNull("best");
            json.WriteStartArray("front");
            foreach (int id in r.Front) json.WriteNumberValue(id);
            json.WriteEndArray();

            json.WriteStartObject("search");
            json.WriteString("method", "NSGA-II with constraint domination on the sensitivity-pruned space, then an evolution ranked by the objective and a 1-opt descent; "
                + "resources and cycles exact (per-module estimates), error predicted to first order from per-layer sensitivity; every reported design simulated and estimated");
            json.WriteNumber("design_space_log10", Math.Round(r.Space.Log10Size, 3));
            json.WriteNumber("population", r.Search.Population);
            json.WriteNumber("generations", r.Search.Generations);
            json.WriteNumber("objective_population", r.Search.ObjectivePopulation);
            json.WriteNumber("objective_generations", r.Search.ObjectiveGenerations);
            json.WriteNumber("descent_starts", r.Search.PolishStarts);
            json.WriteString("seed", r.Search.Seed.ToString("X16", CultureInfo.InvariantCulture));
            json.WriteNumber("designs_scored", r.DesignsScored);
            json.WriteNumber("modules_estimated", r.ModulesEstimated);
            json.WriteNumber("sensitivity_windows", r.Sensitivity.Windows);
            json.WriteNumber("sensitivity_simulations", r.Sensitivity.Cases);
            json.WriteNumber("simulations", r.Simulations);
            json.WriteNumber("designs_measured", r.Designs.Count);
            json.WriteEndObject();

            if (r.Options.FineTuning is { } tuning)
            {
                // Only with FpgaExploreFineTune=true: without it the report stays as it was.
                var tuned = r.Designs.FirstOrDefault(d => d.FineTuned is not null)?.FineTuned!.Training;
                json.WriteStartObject("fine_tuning");
                json.WriteString("designs", tuned is null ? "none: no design qualifies"
                    : "the best design and the uniform design at the widest bits, and every measured design with the same bits");
                json.WriteString("chosen_by", "validation_mse (post-training quantization)");
                json.WriteNumber("epochs", tuning.Epochs);
                json.WriteNumber("learning_rate", tuning.LearningRate);
                json.WriteNumber("validation_percent", tuning.ValidationPercent);
                if (tuned is not null)
                {
                    json.WriteNumber("training_windows", tuned.TrainingWindows);
                    json.WriteNumber("validation_windows", tuned.ValidationWindows);
                }
                json.WriteEndObject();
            }

            json.WriteStartArray("sensitivity");
            foreach (var s in r.Sensitivity.Layers)
            {
                json.WriteStartObject();
                json.WriteString("name", s.Layer);
                void Deltas(string name, IReadOnlyDictionary<int, double> deltas)
                {
                    json.WriteStartObject(name);
                    foreach (var (bits, delta) in deltas.OrderBy(d => d.Key)) json.WriteNumber(bits.ToString(CultureInfo.InvariantCulture), delta);
                    json.WriteEndObject();
                }
                Deltas("weight_error_increase", s.Weight);
                Deltas("activation_error_increase", s.Activation);
                var pruned = r.Pruned.TryGetValue(s.Layer, out var p) ? p : ([], []);
                json.WriteStartArray("pruned_weight_bits");
                foreach (int b in pruned.Weight) json.WriteNumberValue(b);
                json.WriteEndArray();
                json.WriteStartArray("pruned_activation_bits");
                foreach (int b in pruned.Activation) json.WriteNumberValue(b);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();

            json.WriteStartArray("designs");
            foreach (var d in r.Designs)
            {
                json.WriteStartObject();
                json.WriteNumber("id", d.Id);
                json.WriteString("origin", d.Origin.ToString().ToLowerInvariant());
                if (d.Origin == DesignOrigin.Uniform) json.WriteNumber("uniform_bits", d.UniformBits);
                json.WriteBoolean("on_front", r.Front.Contains(d.Id));
                json.WriteBoolean("best", r.Best == d.Id);
                json.WriteBoolean("fits", d.Estimate.Fits);
                json.WriteString("architecture", d.Plan.Engine is null ? "Layers" : "Engine");
                if (d.Plan.Engine is { } engine)
                {
                    json.WriteNumber("engine_lanes", engine.Lanes);
                    json.WriteString("engine_multipliers", d.EngineMultipliers);
                }
                json.WriteNumber("validation_mse", d.ValidationError);
                json.WriteStartObject("integer_vs_target");
                json.WriteNumber("mse", d.Simulation.IntegerVsTarget.Mse);
                json.WriteNumber("mae", d.Simulation.IntegerVsTarget.Mae);
                json.WriteEndObject();
                json.WriteStartObject("integer_vs_float");
                json.WriteNumber("mse", d.Simulation.IntegerVsFloat.Mse);
                json.WriteNumber("mae", d.Simulation.IntegerVsFloat.Mae);
                json.WriteEndObject();
                json.WriteNumber("error_increase_percent", Math.Round((d.Error / r.ReferenceError - 1) * 100, 3));
                if (d.PredictedError is double predicted) json.WriteNumber("predicted_mse", predicted);
                else json.WriteNull("predicted_mse");
                if (d.FineTuned is { } fineTuned)
                {
                    // validation_mse_before/after: the fine-tuning's held-out windows, not the exploration's validation windows.
                    json.WriteStartObject("finetuned");
                    json.WriteNumber("best_epoch", fineTuned.Training.BestEpoch);
                    json.WriteNumber("validation_mse_before", fineTuned.Training.ValidationMseBefore);
                    json.WriteNumber("validation_mse", fineTuned.Training.ValidationMseAfter);
                    json.WriteNumber("test_mse", fineTuned.Test.IntegerVsTarget.Mse);
                    json.WriteNumber("test_error_increase_percent", Math.Round((fineTuned.Test.IntegerVsTarget.Mse / r.ReferenceError - 1) * 100, 3));
                    json.WriteEndObject();
                }
                json.WriteNumber("area_fraction", Math.Round(d.Area, 6));
                json.WriteNumber("lut_equivalent", Math.Round(d.LutEquivalent, 1));
                d.Estimate.Total.WriteObject(json, "total");
                json.WriteNumber("latency_cycles", d.Cycles);
                json.WriteNumber("latency_us", d.Cycles / r.ClockMHz);
                json.WriteStartArray("layers");
                foreach (var l in d.Estimate.Layers)
                {
                    json.WriteStartObject();
                    json.WriteString("name", l.Name);
                    json.WriteNumber("weight_bits", l.WeightBits);
                    json.WriteNumber("activation_bits", l.ActivationBits);
                    json.WriteString("buffer_resource", l.BufferResource);
                    json.WriteNumber("lanes", l.Lanes);
                    json.WriteString("multiplier", Multiplier(r, d, l.Name));
                    l.Resources.WriteFields(json);
                    json.WriteNumber("cycles", l.Cycles);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>"Dsp" or "Lut" for a layer with MAC multipliers, "Engine" for one on the shared engine, "None" for the others (and the input and control rows).</summary>
    private static string Multiplier(ExploreResult r, MeasuredDesign d, string layer) =>
        !IsMac(r, layer) ? "None" : OnEngine(d, layer) ? "Engine" : d.Plan[layer].Multiplier == MultiplierMapping.Lut ? "Lut" : "Dsp";

    private static bool OnEngine(MeasuredDesign d, string layer) => d.Estimate.Layers.Any(l => l.Name == layer && l.OnEngine);

    /// <summary>A layer with MAC multipliers (linear, Q·Kᵀ, A·V): Lanes and Multiplier of LayerParallelism apply to it.</summary>
    private static bool IsMac(ExploreResult r, string layer) => r.Space.Layers.Any(l => l.Name == layer && l.Multipliers.Count > 1);

    /// <summary>A layer whose WeightBits follow its LayerPrecision (the linear layers).</summary>
    private static bool IsWeighted(ExploreResult r, string layer) => r.Space.Layers.Any(l => l.Name == layer && l.HasWeightBits);

    /// <summary>The hardware rows of a design's estimate (no fused layer, input or control).</summary>
    private static List<LayerEstimate> HardwareRows(ExploreResult r, MeasuredDesign d) =>
        d.Estimate.Layers.Where(l => r.Space.Layers.Any(s => s.Name == l.Name)).ToList();

    private static string Pair(ExploreResult r, LayerEstimate l) => l.ActivationBits == 0 ? "" :
        (IsWeighted(r, l.Name) ? l.WeightBits.ToString(CultureInfo.InvariantCulture) : "-") + "/" + l.ActivationBits.ToString(CultureInfo.InvariantCulture);

    /// <summary>The bits of a design in short: the most common weight and activation bits, then the layers that differ.</summary>
    public static string BitsSummary(ExploreResult r, MeasuredDesign d, int max = 4)
    {
        var rows = HardwareRows(r, d);
        int activation = rows.GroupBy(l => l.ActivationBits).OrderByDescending(g => g.Count()).ThenByDescending(g => g.Key).First().Key;
        int weight = rows.Where(l => IsWeighted(r, l.Name)).GroupBy(l => l.WeightBits).OrderByDescending(g => g.Count()).ThenByDescending(g => g.Key).Select(g => g.Key).FirstOrDefault(activation);
        var different = rows.Where(l => l.ActivationBits != activation || IsWeighted(r, l.Name) && l.WeightBits != weight).ToList();
        string head = string.Create(CultureInfo.InvariantCulture, $"{weight}/{activation}");
        if (different.Count == 0) return head + " everywhere";
        return head + " but " + string.Join(", ", different.Take(max).Select(l => l.Name + " " + Pair(r, l)))
            + (different.Count > max ? string.Create(CultureInfo.InvariantCulture, $" and {different.Count - max} more") : "");
    }

    private static string Percent(ExploreResult r, MeasuredDesign d) => Reports.Formats.SignedPercent((d.Error / r.ReferenceError - 1) * 100);

    private static string ObjectiveText(ExploreResult r) => r.Options.Objective == ExploreObjective.Accuracy
        ? "**Accuracy**: the least validation error that fits (ties: less area, then fewer cycles)"
        : string.Create(CultureInfo.InvariantCulture,
            $"**Latency**: the fewest cycles that fit with a validation error within {r.Options.MaxErrorIncreasePercent:0.##} % of the uniform 8-bit design's ({r.ValidationReferenceError:G4}, so at most {r.ErrorLimit:G4}; ties: less area, then less error)");

    public static string Markdown(ExploreResult r)
    {
        var md = new StringBuilder();
        md.Append("# Design-space exploration: ").Append(r.Top).Append(" on ").Append(r.Part).Append("\n\n");
        md.Append("Objective ").Append(ObjectiveText(r)).Append(". Candidate bits ").Append(string.Join(";", r.Options.Bits))
          .Append(string.Create(CultureInfo.InvariantCulture, $"; budget {r.LimitPercent:0.#} % of the part ({N(r.Budget.Lut)} LUT, {N(r.Budget.LutRam)} LUTRAM, {N(r.Budget.Ff)} FF, {r.Budget.Bram18} BRAM18, {r.Budget.Dsp} DSP). "))
          .Append(string.Create(CultureInfo.InvariantCulture, $"Designs are chosen by their validation error: MSE of the integer model against the targets on {r.Sensitivity.Windows} windows of the calibration file. "))
          .Append("Test error = the same on the whole test set, as report/simulation.json's `integer_vs_target.mse`: reported beside, never chosen by.\n\n");
        if (r.Best is int bestId)
        {
            var b = r.Designs[bestId];
            md.Append(string.Create(CultureInfo.InvariantCulture,
                $"**Best design: {b.Label}** ({b.Origin.ToString().ToLowerInvariant()}): validation MSE {b.ValidationError:G4}, test MSE {b.Error:G4} ({Percent(r, b)} vs uniform 8 bit), "))
              .Append(string.Create(CultureInfo.InvariantCulture,
                $"LUT-equivalent area {N((long)Math.Round(b.LutEquivalent))}, {b.Estimate.SummaryLine()}. "))
              .Append("`explore.props` holds its items; see *Using the result* below.")
              .Append(b.FineTuned is { } t ? string.Create(CultureInfo.InvariantCulture, $" Fine-tuned for its bits: test MSE {t.Test.IntegerVsTarget.Mse:G4} (see *Fine-tuned designs*).") : "")
              .Append("\n\n");
        }
        else
        {
            md.Append("**No design qualifies** for the objective (the build's error names the closest); `explore.props` was not written.\n\n");
        }
        md.Append("![Pareto front: validation error over LUT-equivalent area, colour = latency](explore.svg)\n\n");

        md.Append("## Measured designs\n\n");
        md.Append("Every design below was simulated on the validation windows and on the whole test set and estimated like a build. ★ = best, ● = on the Pareto front of validation error × LUT-equivalent area × cycles among the designs that fit; \"predicted\" is the search's validation error.\n\n");
        md.Append("| design | | validation MSE | test MSE | vs 8 bit (test) | predicted | LUT-eq. area | LUT | LUTRAM | FF | BRAM18 | DSP | cycles | µs | fits | architecture | bits (weight/activation) |\n");
        md.Append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|\n");
        foreach (var d in r.Designs)
        {
            var t = d.Estimate.Total;
            string mark = (r.Best == d.Id ? "★" : "") + (r.Front.Contains(d.Id) ? "●" : "");
            md.Append(string.Create(CultureInfo.InvariantCulture,
                $"| {d.Label} | {mark} | {d.ValidationError:G4} | {d.Error:G4} | {Percent(r, d)} | {(d.PredictedError is double p ? p.ToString("G4", CultureInfo.InvariantCulture) : "")} | {N((long)Math.Round(d.LutEquivalent))} | {N(t.Lut)} | {N(t.LutRam)} | {N(t.Ff)} | {t.Bram18} | {t.Dsp} | {N(d.Cycles)} | {d.Cycles / r.ClockMHz:0.#} | {(d.Estimate.Fits ? "yes" : "no")} | {d.Architecture} | {BitsSummary(r, d)} |\n"));
        }
        md.Append('\n');
        if (r.Options.FineTuning is not null) FineTunedSection(md, r);

        if (r.Best is int id)
        {
            var b = r.Designs[id];
            md.Append("## The best design, per layer\n\n");
            md.Append("Architecture: ").Append(b.Architecture).Append(".\n\n");
            md.Append("| layer | bits (w/a) | buffer | lanes | multiplier | LUT | LUTRAM | FF | BRAM18 | DSP | cycles |\n");
            md.Append("|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|\n");
            foreach (var l in b.Estimate.Layers)
                md.Append(string.Create(CultureInfo.InvariantCulture,
                    $"| {l.Name} | {Pair(r, l)} | {l.BufferResource} | {l.Lanes} | {Multiplier(r, b, l.Name)} | {N(l.Resources.Lut)} | {N(l.Resources.LutRam)} | {N(l.Resources.Ff)} | {l.Resources.Bram18} | {l.Resources.Dsp} | {N(l.Cycles)} |\n"));
            md.Append('\n');
            md.Append("## Using the result\n\n");
            md.Append("Copy `explore.props` beside the project file and import it after the project's own items, for example as the last line inside `<Project>`:\n\n");
            md.Append("```xml\n<Import Project=\"explore.props\" />\n```\n\n");
            md.Append(b.Plan.Engine is null
                ? "It sets `FpgaArchitecture` (Layers) and every hardware layer's `LayerPrecision`, `BufferResource` and `LayerParallelism` explicitly, "
                : "It sets `FpgaArchitecture` (Engine), `FpgaEngineLanes` and every hardware layer's `LayerPrecision` and `BufferResource` explicitly (the engine's own Auto rule then chooses its DSP48E1 or LUT lanes and its weight memory as above), ");
            md.Append("so `dotnet build` then makes exactly this design: the same estimate, and report/simulation.json's `integer_vs_target.mse` equal to the test MSE above.\n\n");
        }

        md.Append("## How it was found\n\n");
        md.Append(string.Create(CultureInfo.InvariantCulture,
            $"- Design space: {r.Space.Layers.Count} hardware layers; per layer weight bits (linear layers) and activation bits from {string.Join(";", r.Options.Bits)}, Block or Distributed buffer, lanes in powers of two while they save cycles, DSP or LUT multipliers (MAC layers): 10^{r.Space.Log10Size:0.#} designs.\n"));
        md.Append(string.Create(CultureInfo.InvariantCulture,
            $"- Sensitivity: {r.Sensitivity.Cases} simulations on {r.Sensitivity.Windows} evenly spread validation windows, each narrowing one layer's weights or activations from the widest bits. The predicted error of a design is the MSE of the reference predictions shifted by what each of its narrowed choices changed alone (a first-order model; exact for one narrowed layer). "));
        md.Append(r.Pruned.Count == 0 ? "No choice was ruled out.\n"
            : "Ruled out (alone worse than narrowing every layer): " + string.Join(", ", r.Pruned.Select(p => p.Key + " " + DesignExploration.PrunedText(p.Value))) + ".\n");
        md.Append(string.Create(CultureInfo.InvariantCulture,
            $"- Search: NSGA-II (population {r.Search.Population}, {r.Search.Generations} generations, fixed seed) over predicted error × area × cycles with the budget as a constraint, then an evolution ranked by the objective alone ({r.Search.ObjectivePopulation} × {r.Search.ObjectiveGenerations}) and a 1-opt descent from the {r.Search.PolishStarts} best designs; resources and cycles of every design exact (the estimator's modules, {N(r.ModulesEstimated)} estimated, and the latency model); {N(r.DesignsScored)} designs scored.\n"));
        md.Append(string.Create(CultureInfo.InvariantCulture,
            $"- Measured: the best candidates for the objective with distinct bits, designs spread over the predicted front, the uniform designs (same bits everywhere, the rest chosen for the objective) and the project's own design; the search's and uniform designs' bits also on the Engine architecture (the search itself costs Layers designs), with the engine's lanes and the buffers (the design's own or the Auto rule's) that are best for the objective and, where that is another, the fastest that fits: {r.Designs.Count} designs, {r.Simulations} simulations in all.\n"));
        return md.ToString();
    }

    /// <summary>FpgaExploreFineTune's table: one row per fine-tuned set of bits, naming every measured design with those bits.</summary>
    private static void FineTunedSection(StringBuilder md, ExploreResult r)
    {
        var tuning = r.Options.FineTuning!;
        var groups = r.Designs.Where(d => d.FineTuned is not null).GroupBy<MeasuredDesign, FineTunedPlan>(d => d.FineTuned!, ReferenceEqualityComparer.Instance).ToList();
        md.Append("## Fine-tuned designs\n\n");
        if (groups.Count == 0)
        {
            md.Append("No design qualifies, so none was fine-tuned.\n\n");
            return;
        }
        var first = groups[0].Key.Training;
        md.Append(string.Create(CultureInfo.InvariantCulture,
            $"`FpgaExploreFineTune`: the best design's bits and the uniform design's at the widest bits ({r.Options.WidestBits}), fine-tuned as `dotnet build -t:FpgaFineTune` tunes them: {tuning.Epochs} epochs, learning rate {tuning.LearningRate:G4}, "))
          .Append(string.Create(CultureInfo.InvariantCulture,
            $"{tuning.ValidationPercent:0.#} % of the calibration file held out ({first.TrainingWindows:N0} training and {first.ValidationWindows:N0} validation windows), the best epoch by the integer model's MSE on the held-out windows with the post-training weights competing as epoch 0. "))
          .Append("Those validation windows are the fine-tuning's own, not the ones the designs above were chosen by; the choice was made on the post-training errors. ")
          .Append("Importing `explore.props` and running `dotnet build -t:FpgaFineTune` with the same properties writes weights with these errors.\n\n");
        md.Append("| designs (same bits) | best epoch | validation MSE (held out), before → after | test MSE, post-training → fine-tuned | vs 8 bit (test, fine-tuned) |\n");
        md.Append("|---|---:|---:|---:|---:|\n");
        foreach (var g in groups)
        {
            var t = g.Key;
            var d = g.First();
            // Designs that differ only in their engine buffers share a label; each label once.
            string labels = string.Join(", ", g.Select(x => (r.Best == x.Id ? "★ " : "") + x.Label).Distinct());
            md.Append(string.Create(CultureInfo.InvariantCulture,
                $"| {labels} | {t.Training.BestEpoch} | {t.Training.ValidationMseBefore:G4} → {t.Training.ValidationMseAfter:G4} | {d.Error:G4} → {t.Test.IntegerVsTarget.Mse:G4} | {Reports.Formats.SignedPercent((t.Test.IntegerVsTarget.Mse / r.ReferenceError - 1) * 100)} |\n"));
        }
        md.Append('\n');
    }

    public static string Svg(ExploreResult r)
    {
        const int width = 720, height = 440, left = 80, right = 170, top = 40, bottom = 56;
        int plotW = width - left - right, plotH = height - top - bottom;
        var designs = r.Designs;
        double xMin = designs.Min(d => d.LutEquivalent), xMax = designs.Max(d => d.LutEquivalent);
        double budgetX = r.Device.LutEquivalent(r.Budget);
        var (xLow, xHigh, xTicks) = LinearTicks(Math.Min(xMin, xMax), Math.Max(xMax, xMin));
        double eMin = designs.Min(d => d.ValidationError), eMax = designs.Max(d => d.ValidationError);
        bool log = eMin > 0 && eMax / eMin > 4;
        var (yLow, yHigh, yTicks) = log ? LogTicks(eMin, eMax) : LinearTicks(Math.Min(0, eMin), eMax);
        double X(double v) => left + (v - xLow) / Math.Max(1e-12, xHigh - xLow) * plotW;
        double Y(double v) => log
            ? top + plotH - (Math.Log10(v) - Math.Log10(yLow)) / Math.Max(1e-12, Math.Log10(yHigh) - Math.Log10(yLow)) * plotH
            : top + plotH - (v - yLow) / Math.Max(1e-12, yHigh - yLow) * plotH;
        long cMin = designs.Min(d => d.Cycles), cMax = designs.Max(d => d.Cycles);
        double Shade(long cycles) => cMax == cMin ? 0.5 : (Math.Log(cycles) - Math.Log(cMin)) / (Math.Log(cMax) - Math.Log(cMin));
        string P(double v) => F(v, "0.##");

        var svg = new StringBuilder();
        svg.Append(string.Create(CultureInfo.InvariantCulture,
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"11\">\n"));
        svg.Append($"<title>{Esc(r.Top)} on {Esc(r.Part)}: measured designs, validation error over LUT-equivalent area, colour = latency</title>\n");
        svg.Append("<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
        svg.Append(string.Create(CultureInfo.InvariantCulture,
            $"<text x=\"{left}\" y=\"22\" font-size=\"13\">{Esc(r.Top)} on {Esc(r.Part)}: validation MSE over area ({Esc(r.Options.Objective.ToString())} objective)</text>\n"));
        svg.Append(string.Create(CultureInfo.InvariantCulture,
            $"<rect x=\"{left}\" y=\"{top}\" width=\"{plotW}\" height=\"{plotH}\" fill=\"none\" stroke=\"#888\"/>\n"));
        foreach (double t in xTicks)
        {
            double x = X(t);
            svg.Append($"<line x1=\"{P(x)}\" y1=\"{top + plotH}\" x2=\"{P(x)}\" y2=\"{top + plotH + 4}\" stroke=\"#888\"/>");
            svg.Append($"<text x=\"{P(x)}\" y=\"{top + plotH + 17}\" text-anchor=\"middle\">{Esc(F(t, "#,0"))}</text>\n");
        }
        foreach (double t in yTicks)
        {
            double y = Y(t);
            svg.Append($"<line x1=\"{left - 4}\" y1=\"{P(y)}\" x2=\"{left + plotW}\" y2=\"{P(y)}\" stroke=\"#eee\"/>");
            svg.Append($"<text x=\"{left - 7}\" y=\"{P(y + 4)}\" text-anchor=\"end\">{Esc(F(t, "G3"))}</text>\n");
        }
        svg.Append($"<text x=\"{left + plotW / 2}\" y=\"{height - 14}\" text-anchor=\"middle\">LUT-equivalent area (LUT + FF, BRAM18, DSP as shares of the device × {N(r.Device.Capacity.Lut)})</text>\n");
        svg.Append($"<text transform=\"translate(18 {top + plotH / 2}) rotate(-90)\" text-anchor=\"middle\">validation MSE{(log ? " (log scale)" : "")}</text>\n");
        if (budgetX >= xLow && budgetX <= xHigh)
            svg.Append($"<line x1=\"{P(X(budgetX))}\" y1=\"{top}\" x2=\"{P(X(budgetX))}\" y2=\"{top + plotH}\" stroke=\"#c00\" stroke-dasharray=\"4 3\"><title>the whole budget as LUT-equivalent area</title></line>\n");

        // Dominated designs first, then the front, then the uniform and project markers on top.
        var labels = new List<(double X, double Y)>();
        foreach (var d in designs.OrderBy(d => d.Origin != DesignOrigin.Search ? 2 : r.Front.Contains(d.Id) ? 1 : 0).ThenBy(d => d.Id))
        {
            double x = X(d.LutEquivalent), y = Y(Math.Max(d.ValidationError, log ? yLow : double.MinValue));
            string fill = d.Estimate.Fits ? Colour(Shade(d.Cycles)) : "#ffffff";
            string stroke = d.Estimate.Fits ? (r.Front.Contains(d.Id) ? "#000000" : "#777777") : Colour(Shade(d.Cycles));
            string opacity = r.Front.Contains(d.Id) || d.Origin != DesignOrigin.Search ? "1" : "0.45";
            string tip = Esc(string.Create(CultureInfo.InvariantCulture,
                $"{d.Label}: validation MSE {d.ValidationError:G4}, test MSE {d.Error:G4} ({Percent(r, d)} vs 8 bit), LUT-eq. {d.LutEquivalent:N0}, {d.Cycles:N0} cycles{(d.Estimate.Fits ? "" : ", does not fit")}{(r.Front.Contains(d.Id) ? ", on the front" : "")}"));
            var (element, geometry) = d.Origin switch
            {
                DesignOrigin.Uniform => ("rect", $"x=\"{P(x - 6)}\" y=\"{P(y - 6)}\" width=\"12\" height=\"12\""),
                DesignOrigin.Project => ("path", $"d=\"M{P(x)} {P(y - 8)} L{P(x + 8)} {P(y)} L{P(x)} {P(y + 8)} L{P(x - 8)} {P(y)} Z\""),
                _ => ("circle", $"cx=\"{P(x)}\" cy=\"{P(y)}\" r=\"5\""),
            };
            svg.Append($"<{element} {geometry} fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.2\" opacity=\"{opacity}\"><title>{tip}</title></{element}>\n");
            if (d.Origin != DesignOrigin.Search)
            {
                // Labels of markers that sit together go one under the other.
                double labelY = y - 7;
                while (labels.Any(l => Math.Abs(l.X - (x + 9)) < 45 && Math.Abs(l.Y - labelY) < 11)) labelY += 11;
                labels.Add((x + 9, labelY));
                svg.Append($"<text x=\"{P(x + 9)}\" y=\"{P(labelY)}\" font-size=\"10\">{Esc(d.Origin == DesignOrigin.Uniform ? d.UniformBits.ToString(CultureInfo.InvariantCulture) + " bit" + (d.Plan.Engine is null ? "" : " engine") : "project")}</text>\n");
            }
            if (r.Best == d.Id)
                svg.Append($"<circle cx=\"{P(x)}\" cy=\"{P(y)}\" r=\"10\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\"><title>best: {tip}</title></circle>\n");
        }

        // Legend: shapes, the best ring, and the latency colour bar.
        int lx = left + plotW + 20, ly = top + 6;
        string Item(int y, string shape, string text) => $"{shape}<text x=\"{lx + 16}\" y=\"{y + 4}\">{Esc(text)}</text>\n";
        svg.Append(Item(ly, $"<circle cx=\"{lx + 5}\" cy=\"{ly}\" r=\"5\" fill=\"#bbbbbb\" stroke=\"#000000\"/>", "search, on the front"));
        svg.Append(Item(ly + 18, $"<circle cx=\"{lx + 5}\" cy=\"{ly + 18}\" r=\"5\" fill=\"#bbbbbb\" stroke=\"#777777\" opacity=\"0.45\"/>", "search, dominated"));
        svg.Append(Item(ly + 36, $"<rect x=\"{lx - 1}\" y=\"{ly + 30}\" width=\"12\" height=\"12\" fill=\"#bbbbbb\" stroke=\"#777777\"/>", "uniform bits"));
        svg.Append(Item(ly + 54, $"<path d=\"M{lx + 5} {ly + 46} L{lx + 13} {ly + 54} L{lx + 5} {ly + 62} L{lx - 3} {ly + 54} Z\" fill=\"#bbbbbb\" stroke=\"#777777\"/>", "project's design"));
        svg.Append(Item(ly + 72, $"<circle cx=\"{lx + 5}\" cy=\"{ly + 72}\" r=\"5\" fill=\"#ffffff\" stroke=\"#777777\"/>", "does not fit"));
        svg.Append(Item(ly + 90, $"<circle cx=\"{lx + 5}\" cy=\"{ly + 90}\" r=\"8\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\"/>", "best (" + r.Options.Objective + ")"));
        int barTop = ly + 120, barHeight = 120;
        svg.Append($"<text x=\"{lx}\" y=\"{barTop - 6}\">latency (cycles)</text>\n");
        for (int k = 0; k < 12; k++)
            svg.Append($"<rect x=\"{lx}\" y=\"{P(barTop + k * barHeight / 12.0)}\" width=\"14\" height=\"{P(barHeight / 12.0 + 0.5)}\" fill=\"{Colour(k / 11.0)}\"/>");
        svg.Append('\n');
        svg.Append($"<text x=\"{lx + 20}\" y=\"{barTop + 9}\">{Esc(N(cMin))}</text>\n");
        svg.Append($"<text x=\"{lx + 20}\" y=\"{barTop + barHeight}\">{Esc(N(cMax))}</text>\n");
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>A colour from a perceptually ordered ramp (viridis' end points and three stops between), t in [0, 1].</summary>
    private static string Colour(double t)
    {
        (double R, double G, double B)[] stops = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)];
        t = Math.Clamp(double.IsFinite(t) ? t : 0.5, 0, 1) * (stops.Length - 1);
        int i = Math.Min((int)t, stops.Length - 2);
        double f = t - i;
        int C(double a, double b) => (int)Math.Round(a + (b - a) * f);
        return string.Create(CultureInfo.InvariantCulture, $"#{C(stops[i].R, stops[i + 1].R):x2}{C(stops[i].G, stops[i + 1].G):x2}{C(stops[i].B, stops[i + 1].B):x2}");
    }

    /// <summary>A range rounded out to 1, 2 or 5 × 10^k steps and its ticks (about five).</summary>
    private static (double Low, double High, double[] Ticks) LinearTicks(double min, double max)
    {
        if (!(max > min)) { double pad = Math.Abs(min) > 0 ? Math.Abs(min) * 0.1 : 1; min -= pad; max += pad; }
        double raw = (max - min) / 5;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw);
        double low = Math.Floor(min / step) * step, high = Math.Ceiling(max / step) * step;
        var ticks = new List<double>();
        for (double t = low; t <= high + step / 2; t += step) ticks.Add(Math.Round(t / step) * step);
        return (low, high, ticks.ToArray());
    }

    /// <summary>A log range out to whole decades (at least one) and ticks at 1, 2 and 5 × 10^k inside it.</summary>
    private static (double Low, double High, double[] Ticks) LogTicks(double min, double max)
    {
        double low = Math.Pow(10, Math.Floor(Math.Log10(min))), high = Math.Pow(10, Math.Ceiling(Math.Log10(max)));
        if (high <= low) high = low * 10;
        var ticks = new List<double>();
        for (double decade = low; decade < high * 1.001; decade *= 10)
            foreach (double m in new[] { 1.0, 2, 5 })
                if (decade * m <= high * 1.001) ticks.Add(decade * m);
        return (low, high, ticks.ToArray());
    }

    private static string Esc(string text) => SecurityElement.Escape(text) ?? "";

    /// <summary>
    /// The best design as MSBuild properties and items: FpgaArchitecture (and for the Engine FpgaEngineLanes), LayerPrecision
    /// (WeightBits only for layers that have them), BufferResource and, for the MAC layers not on the engine,
    /// LayerParallelism (Lanes, Multiplier), one item per hardware layer by its exact name.
    /// </summary>
    public static string Props(ExploreResult r, MeasuredDesign best)
    {
        var t = best.Estimate.Total;
        var sb = new StringBuilder();
        sb.Append("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        sb.Append("<!--\n");
        sb.Append(Comment(string.Create(CultureInfo.InvariantCulture,
            $"  FpgaExplore ({r.Options.Objective}): design {best.Label} of report/explore.md for {r.Top} on {r.Part} at {r.LimitPercent:0.#} %.")));
        sb.Append(Comment(string.Create(CultureInfo.InvariantCulture,
            $"  Validation MSE {best.ValidationError.ToString("R", CultureInfo.InvariantCulture)}, test MSE {best.Error.ToString("R", CultureInfo.InvariantCulture)} ({Percent(r, best)} vs uniform 8 bit); LUT {t.Lut:N0}, LUTRAM {t.LutRam:N0}, FF {t.Ff:N0}, BRAM18 {t.Bram18}, DSP {t.Dsp}; {best.Cycles:N0} cycles.")));
        sb.Append("  Import it after the project's own items (these override them), e.g. as the last line of the project:\n");
        sb.Append("    <Import Project=\"explore.props\" />\n");
        sb.Append("-->\n");
        sb.Append("<Project>\n");
        sb.Append("  <PropertyGroup>\n");
        if (best.Plan.Engine is { } engine)
            sb.Append("    <FpgaArchitecture>Engine</FpgaArchitecture>\n    <FpgaEngineLanes>").Append(engine.Lanes.ToString(CultureInfo.InvariantCulture)).Append("</FpgaEngineLanes>\n");
        else
            sb.Append("    <FpgaArchitecture>Layers</FpgaArchitecture>\n");
        sb.Append("  </PropertyGroup>\n");
        var rows = HardwareRows(r, best);
        sb.Append("  <ItemGroup>\n");
        foreach (var l in rows)
            sb.Append("    <LayerPrecision Include=\"").Append(Attribute(MsBuildEscape(l.Name))).Append('"')
              .Append(IsWeighted(r, l.Name) ? " WeightBits=\"" + l.WeightBits.ToString(CultureInfo.InvariantCulture) + "\"" : "")
              .Append(" ActivationBits=\"").Append(l.ActivationBits.ToString(CultureInfo.InvariantCulture)).Append("\" />\n");
        sb.Append("  </ItemGroup>\n  <ItemGroup>\n");
        // a layer whose output is not stored (in the engine's write-back) has no buffer to choose
        foreach (var l in rows.Where(l => l.BufferResource != DesignEstimate.Fused))
            sb.Append("    <BufferResource Include=\"").Append(Attribute(MsBuildEscape(l.Name))).Append("\" Resource=\"").Append(Attribute(l.BufferResource)).Append("\" />\n");
        sb.Append("  </ItemGroup>\n  <ItemGroup>\n");
        foreach (var l in rows.Where(l => IsMac(r, l.Name) && !l.OnEngine))
            sb.Append("    <LayerParallelism Include=\"").Append(Attribute(MsBuildEscape(l.Name))).Append("\" Lanes=\"").Append(l.Lanes.ToString(CultureInfo.InvariantCulture))
              .Append("\" Multiplier=\"").Append(Multiplier(r, best, l.Name)).Append("\" />\n");
        sb.Append("  </ItemGroup>\n</Project>\n");
        return sb.ToString();
    }

    /// <summary>A comment line that cannot end the comment early ("--" is not allowed inside XML comments).</summary>
    private static string Comment(string line) => line.Replace("--", "- -", StringComparison.Ordinal) + "\n";

    /// <summary>MSBuild's escapes for the characters it treats specially in an Include (wildcards, item and property syntax, separators).</summary>
    public static string MsBuildEscape(string text)
    {
        var sb = new StringBuilder();
        foreach (char c in text)
            sb.Append(c is '%' or '*' or '?' or '@' or '$' or '(' or ')' or ';' or '\''
                ? "%" + ((int)c).ToString("X2", CultureInfo.InvariantCulture)
                : c.ToString());
        return sb.ToString();
    }

    private static string Attribute(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;");
}
