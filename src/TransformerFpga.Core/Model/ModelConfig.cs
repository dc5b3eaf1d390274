namespace TransformerFpga.Model;

public enum NormKind { Batch, Layer }

/// <summary>A validated model architecture and its data description. Paths are absolute.</summary>
public sealed record ModelConfig(
    string Name,
    string ModelPath,
    string WeightsPath,
    int Window,
    int InputFeatures,
    int OutputFeatures,
    int DModel,
    int Heads,
    int FfnDim,
    int EncoderLayers,
    NormKind Norm,
    DataConfig Data)
{
    public int HeadDim => DModel / Heads;

    /// <summary>Architecture limits; they keep every integer intermediate inside 64 bits.</summary>
    public const int MaxWindow = 512, MaxFeatures = 64, MaxDModel = 512, MaxHeads = 8, MaxFfn = 4096, MaxEncoderLayers = 4;
}

public sealed record DataConfig(
    string CalibrationPath,
    string TestPath,
    string[] InputColumns,
    string[] TargetColumns,
    double[] InputMean,
    double[] InputStd,
    double[] TargetMean,
    double[] TargetStd);
