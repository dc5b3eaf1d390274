using TransformerFpga.Model;
using TransformerFpga.Training;

namespace TransformerFpga.Trainer;

/// <summary>Compares the hand-written backward pass with central finite differences on small random models.</summary>
public static class GradientCheck
{
    public static bool Run(TextWriter log)
    {
        bool ok = true;
        foreach (var norm in new[] { NormKind.Batch, NormKind.Layer })
            foreach (var (heads, layers) in new[] { (1, 1), (2, 2) })
                ok &= Check(new NetworkShape(Window: 5, InputFeatures: 3, OutputFeatures: 2, DModel: 4, Heads: heads, FfnDim: 6, EncoderLayers: layers, norm), log);
        log.WriteLine(ok ? "gradient check passed" : "gradient check FAILED");
        return ok;
    }

    private static bool Check(NetworkShape shape, TextWriter log)
    {
        var random = new DeterministicRandom(7);
        var network = new TransformerNetwork(shape);
        network.Initialize(random);
        foreach (var norm in network.Norms)
        {
            for (int c = 0; c < shape.DModel; c++)
            {
                norm.Weight.Value[c] = random.Uniform(0.5, 1.5);
                norm.Bias.Value[c] = random.Uniform(-0.5, 0.5);
                if (norm.RunningMean is not null) norm.RunningMean.Value[c] = random.Uniform(-0.5, 0.5);
                if (norm.RunningVar is not null) norm.RunningVar.Value[c] = random.Uniform(0.5, 2);
            }
        }
        var window = new float[shape.Window * shape.InputFeatures];
        for (int i = 0; i < window.Length; i++) window[i] = (float)random.Uniform(-2, 2);
        var target = new double[shape.OutputFeatures];
        for (int i = 0; i < target.Length; i++) target[i] = random.Uniform(-1, 1);

        double Loss()
        {
            var y = network.Forward(window);
            double loss = 0;
            for (int o = 0; o < y.Length; o++) loss += (y[o] - target[o]) * (y[o] - target[o]);
            return loss;
        }

        network.Parameters.ClearGradients();
        var prediction = network.Forward(window);
        network.Backward(prediction.Select((y, o) => 2 * (y - target[o])).ToArray());

        const double step = 1e-6;
        double worst = 0;
        string worstName = "";
        foreach (var parameter in network.Parameters.All.Where(p => p.Trainable))
            for (int i = 0; i < parameter.Value.Length; i++)
            {
                double saved = parameter.Value[i];
                parameter.Value[i] = saved + step;
                double up = Loss();
                parameter.Value[i] = saved - step;
                double down = Loss();
                parameter.Value[i] = saved;
                double numeric = (up - down) / (2 * step), analytic = parameter.Gradient[i];
                double error = Math.Abs(numeric - analytic) / Math.Max(1e-4, Math.Abs(numeric) + Math.Abs(analytic));
                if (error > worst) (worst, worstName) = (error, $"{parameter.Name}[{i}]");
            }
        bool ok = worst < 1e-5;
        log.WriteLine($"{shape.Norm} norm, {shape.Heads} head(s), {shape.EncoderLayers} layer(s): worst relative gradient error {worst:E2} at {worstName} {(ok ? "ok" : "FAIL")}");
        return ok;
    }
}
