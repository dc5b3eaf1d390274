namespace TransformerFpga.Training;

/// <summary>Adam with decoupled weight decay (AdamW) over the trainable parameters.</summary>
public sealed class AdamOptimizer
{
    private const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;

    private readonly Parameter[] _parameters;
    private readonly double[][] _firstMoment;
    private readonly double[][] _secondMoment;
    private readonly double _weightDecay;
    private int _step;

    public AdamOptimizer(ParameterSet parameters, double weightDecay)
    {
        _parameters = parameters.All.Where(p => p.Trainable).ToArray();
        _firstMoment = _parameters.Select(p => new double[p.Value.Length]).ToArray();
        _secondMoment = _parameters.Select(p => new double[p.Value.Length]).ToArray();
        _weightDecay = weightDecay;
    }

    public void Step(double learningRate)
    {
        _step++;
        double correction1 = 1 - Math.Pow(Beta1, _step), correction2 = 1 - Math.Pow(Beta2, _step);
        for (int p = 0; p < _parameters.Length; p++)
        {
            var parameter = _parameters[p];
            double[] value = parameter.Value, gradient = parameter.Gradient, m = _firstMoment[p], v = _secondMoment[p];
            double decay = parameter.Decays ? 1 - learningRate * _weightDecay : 1;
            for (int i = 0; i < value.Length; i++)
            {
                m[i] = Beta1 * m[i] + (1 - Beta1) * gradient[i];
                v[i] = Beta2 * v[i] + (1 - Beta2) * gradient[i] * gradient[i];
                value[i] = value[i] * decay - learningRate * (m[i] / correction1) / (Math.Sqrt(v[i] / correction2) + Epsilon);
            }
        }
    }
}
