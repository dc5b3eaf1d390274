using System.Globalization;
using TransformerFpga.Diagnostics;
using TransformerFpga.Trainer;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

TrainerOptions options;
try { options = TrainerOptions.Parse(args); }
catch (ArgumentException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    Console.Error.WriteLine(TrainerOptions.Usage);
    return 2;
}

if (options.CheckGradients) return GradientCheck.Run(Console.Out) ? 0 : 1;

try { return Training.TrainAndEvaluate(options, Console.Out); }
catch (FpgaException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 2;
}
