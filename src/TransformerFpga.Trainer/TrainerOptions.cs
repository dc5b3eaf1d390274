using System.Globalization;
using TransformerFpga.Model;

namespace TransformerFpga.Trainer;

/// <summary>Command-line options; every default reproduces the bundled SeattleTemperature sample.</summary>
public sealed class TrainerOptions
{
    public string? DataDirectory { get; private set; }
    public string TrainFile { get; private set; } = "train.csv";
    public string TestFile { get; private set; } = "test.csv";
    public string? OutputDirectory { get; private set; }
    public string Name { get; private set; } = "forecaster";
    public string[] InputColumns { get; private set; } = ["pressure", "temperature", "wind"];
    public string[] TargetColumns { get; private set; } = ["temperature"];
    public int Window { get; private set; } = 24;
    public int DModel { get; private set; } = 16;
    public int Heads { get; private set; } = 1;
    public int? FfnDim { get; private set; }
    public int Layers { get; private set; } = 1;
    public NormKind Norm { get; private set; } = NormKind.Batch;
    public int Epochs { get; private set; } = 60;
    public int BatchSize { get; private set; } = 32;
    public double LearningRate { get; private set; } = 2e-3;
    public double WeightDecay { get; private set; }
    public int WarmupSteps { get; private set; } = 200;
    public ulong Seed { get; private set; } = 1;
    public bool CheckGradients { get; private set; }

    public int EffectiveFfnDim => FfnDim ?? 4 * DModel;

    public const string Usage = """
        Trains the README's forecaster in float (deterministic: same command, same bytes) and writes
        <out>/<name>.json and <out>/<name>.safetensors, then evaluates them with the Core's FloatTransformer.

          --data-dir DIR        folder with the training and test CSV files (required)
          --train FILE          training CSV in DIR; also the calibration set (train.csv)
          --test FILE           test CSV in DIR (test.csv)
          --out DIR             output folder for the model JSON and weights (required)
          --name NAME           model name and file stem (forecaster)
          --inputs A,B,C        input columns (pressure,temperature,wind)
          --targets A           target columns (temperature)
          --window N            time steps per window (24)
          --d-model N           model width (16)
          --heads N             attention heads, 1..8, dividing d-model (1)
          --ffn N               feed-forward width (4 × d-model)
          --layers N            encoder layers, 1..4 (1)
          --norm batch|layer    normalization (batch)
          --epochs N            training epochs (60)
          --batch-size N        windows per Adam step (32)
          --lr X                peak learning rate; linear warm-up, then cosine decay (0.002)
          --warmup-steps N      warm-up steps (200)
          --weight-decay X      decoupled weight decay on weight matrices (0)
          --seed N              initialization and shuffling seed (1)
          --check-gradients     compare the backward pass with finite differences on small models, then exit
        """;

    public static TrainerOptions Parse(string[] args)
    {
        var o = new TrainerOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string option = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{option} needs a value");
            int Integer(int min, int max)
            {
                string text = Value();
                if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < min || v > max)
                    throw new ArgumentException($"{option} is '{text}'; expected an integer in {min}..{max}");
                return v;
            }
            double Real(double min)
            {
                string text = Value();
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v) || v < min)
                    throw new ArgumentException($"{option} is '{text}'; expected a number ≥ {min}");
                return v;
            }
            string[] List() => Value().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

            switch (option)
            {
                case "--data-dir": o.DataDirectory = Value(); break;
                case "--train": o.TrainFile = Value(); break;
                case "--test": o.TestFile = Value(); break;
                case "--out": o.OutputDirectory = Value(); break;
                case "--name": o.Name = Value(); break;
                case "--inputs": o.InputColumns = List(); break;
                case "--targets": o.TargetColumns = List(); break;
                case "--window": o.Window = Integer(1, ModelConfig.MaxWindow); break;
                case "--d-model": o.DModel = Integer(1, ModelConfig.MaxDModel); break;
                case "--heads": o.Heads = Integer(1, ModelConfig.MaxHeads); break;
                case "--ffn": o.FfnDim = Integer(1, ModelConfig.MaxFfn); break;
                case "--layers": o.Layers = Integer(1, ModelConfig.MaxEncoderLayers); break;
                case "--norm":
                    o.Norm = Value() switch
                    {
                        "batch" => NormKind.Batch,
                        "layer" => NormKind.Layer,
                        var other => throw new ArgumentException($"--norm is '{other}'; use batch or layer"),
                    };
                    break;
                case "--epochs": o.Epochs = Integer(0, 100_000); break;
                case "--batch-size": o.BatchSize = Integer(1, 1_000_000); break;
                case "--lr": o.LearningRate = Real(0); break;
                case "--warmup-steps": o.WarmupSteps = Integer(0, int.MaxValue); break;
                case "--weight-decay": o.WeightDecay = Real(0); break;
                case "--seed":
                    string seed = Value();
                    o.Seed = ulong.TryParse(seed, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong s) ? s : throw new ArgumentException($"--seed is '{seed}'; expected a non-negative integer");
                    break;
                case "--check-gradients": o.CheckGradients = true; break;
                default: throw new ArgumentException($"unknown option '{option}'");
            }
        }
        if (o.CheckGradients) return o;
        if (o.DataDirectory is null) throw new ArgumentException("--data-dir is required");
        if (o.OutputDirectory is null) throw new ArgumentException("--out is required");
        if (o.DModel % o.Heads != 0) throw new ArgumentException($"--d-model {o.DModel} is not divisible by --heads {o.Heads}");
        if (o.InputColumns.Length == 0 || o.TargetColumns.Length == 0) throw new ArgumentException("--inputs and --targets need at least one column each");
        return o;
    }
}
