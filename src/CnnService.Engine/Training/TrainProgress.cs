namespace CnnService.Engine.Training;

/// <summary>
/// Where a run is, reported after every step: the epoch's running loss and accuracy, speed and
/// the time left; and once more at each epoch's end, after validation, with <see cref="Summary"/>.
/// </summary>
public sealed record TrainProgress(
    int Epoch, int Epochs, int Step, int StepsPerEpoch, double Loss, double Accuracy, float LearningRate,
    double ImagesPerSecond, TimeSpan Elapsed, TimeSpan Remaining, EpochSummary? Summary = null);

/// <summary>One finished epoch: training loss and accuracy over its steps, and the validation figures when there is a validation set.</summary>
public sealed record EpochSummary(int Epoch, double Loss, double Accuracy, double? ValidationLoss, double? ValidationAccuracy, double Seconds, double ImagesPerSecond);
