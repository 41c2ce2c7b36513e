namespace CnnService.Engine.Training;

/// <summary>
/// The learning rate at each step: constant, step decay (times <see cref="Gamma"/> every
/// <see cref="StepEpochs"/> epochs, PyTorch's StepLR) or cosine annealing from the base rate to
/// zero over the whole run (CosineAnnealingLR, per step rather than per epoch so it is smooth).
/// </summary>
public sealed record LearningRateSchedule
{
    /// <summary>"constant", "step" or "cosine".</summary>
    public string Kind { get; init; } = "constant";
    public int StepEpochs { get; init; } = 1;
    public float Gamma { get; init; } = 0.1f;

    public void Validate()
    {
        if (Kind is not ("constant" or "step" or "cosine")) throw new ArgumentException($"Unknown schedule \"{Kind}\" (known: constant, step, cosine).");
        if (StepEpochs < 1) throw new ArgumentException("The step schedule's period must be at least one epoch.");
        if (!(Gamma > 0) || !float.IsFinite(Gamma)) throw new ArgumentException("The step schedule's gamma must be positive.");
    }

    /// <summary>The rate for <paramref name="step"/> (0-based) of a run of <paramref name="totalSteps"/>, <paramref name="stepsPerEpoch"/> per epoch.</summary>
    public float At(float baseRate, long step, long stepsPerEpoch, long totalSteps) => Kind switch
    {
        "step" => baseRate * MathF.Pow(Gamma, step / stepsPerEpoch / StepEpochs),
        "cosine" => (float)(baseRate * 0.5 * (1 + Math.Cos(Math.PI * step / Math.Max(1, totalSteps)))),
        _ => baseRate,
    };
}
