namespace CnnService.Engine.Training.Optimizers;

/// <summary>
/// Which optimizer and its settings. Defaults are Keras's for Adam (lr 1e-3, beta1 0.9,
/// beta2 0.999, epsilon 1e-7) and PyTorch's for SGD (no momentum, no weight decay).
/// </summary>
public sealed record OptimizerOptions
{
    /// <summary>"adam" or "sgd".</summary>
    public string Name { get; init; } = "adam";
    public float LearningRate { get; init; } = 1e-3f;
    public float Beta1 { get; init; } = 0.9f;
    public float Beta2 { get; init; } = 0.999f;
    public float Epsilon { get; init; } = 1e-7f;
    public float Momentum { get; init; }
    public bool Nesterov { get; init; }
    /// <summary>L2 penalty added to each gradient (PyTorch's weight_decay).</summary>
    public float WeightDecay { get; init; }

    public void Validate()
    {
        if (Name is not ("adam" or "sgd")) throw new ArgumentException($"Unknown optimizer \"{Name}\" (known: adam, sgd).");
        if (!(LearningRate > 0) || !float.IsFinite(LearningRate)) throw new ArgumentException($"The learning rate must be positive, got {LearningRate}.");
        if (!(Beta1 >= 0 && Beta1 < 1) || !(Beta2 >= 0 && Beta2 < 1)) throw new ArgumentException("Adam's betas must be in [0, 1).");
        if (!(Epsilon > 0)) throw new ArgumentException("Adam's epsilon must be positive.");
        if (!(Momentum >= 0 && Momentum < 1)) throw new ArgumentException($"Momentum must be in [0, 1), got {Momentum}.");
        if (Nesterov && Momentum == 0) throw new ArgumentException("Nesterov momentum needs a momentum above 0.");
        if (!(WeightDecay >= 0) || !float.IsFinite(WeightDecay)) throw new ArgumentException($"Weight decay must not be negative, got {WeightDecay}.");
    }
}
