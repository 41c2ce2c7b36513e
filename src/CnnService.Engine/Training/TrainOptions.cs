using CnnService.Engine.Training.Optimizers;

namespace CnnService.Engine.Training;

/// <summary>How to train: epochs, batch size, optimizer and schedule, seed, threads, augmentation.</summary>
public sealed record TrainOptions
{
    public int Epochs { get; init; } = 10;
    public int BatchSize { get; init; } = 32;
    public OptimizerOptions Optimizer { get; init; } = new();
    public LearningRateSchedule Schedule { get; init; } = new();
    public long Seed { get; init; } = 42;
    public int Threads { get; init; } = Environment.ProcessorCount;
    /// <summary>Random translation of each training image by up to this many pixels (0: none).</summary>
    public int AugmentShift { get; init; }

    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"Epochs must be at least 1, got {Epochs}.");
        if (BatchSize is < 1 or > 65536) throw new ArgumentException($"The batch size must be 1 to 65536, got {BatchSize}.");
        if (Threads < 1) throw new ArgumentException($"Threads must be at least 1, got {Threads}.");
        if (AugmentShift is < 0 or > 8) throw new ArgumentException($"The augmentation shift must be 0 to 8 pixels, got {AugmentShift}.");
        Optimizer.Validate();
        Schedule.Validate();
    }
}
