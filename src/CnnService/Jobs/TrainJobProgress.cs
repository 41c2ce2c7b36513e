using System.Globalization;
using CnnService.Engine.Training;

namespace CnnService.Jobs;

/// <summary>
/// One <c>progress</c> event of a job's event stream: the trainer's report (after a step, or at an
/// epoch's end with <see cref="EpochSummary"/>), with times in seconds.
/// </summary>
public sealed record TrainJobProgress(
    string Id, int Epoch, int Epochs, int Step, int StepsPerEpoch, double Loss, double Accuracy, double LearningRate,
    double ImagesPerSecond, double ElapsedSeconds, double RemainingSeconds, EpochSummary? EpochSummary)
{
    public static TrainJobProgress From(string id, TrainProgress p) => new(
        id, p.Epoch, p.Epochs, p.Step, p.StepsPerEpoch, p.Loss, p.Accuracy, Widen(p.LearningRate), p.ImagesPerSecond,
        Math.Round(p.Elapsed.TotalSeconds, 3), Math.Round(p.Remaining.TotalSeconds, 3), p.Summary);

    /// <summary>The double a float was written as (0.001f is 0.001, not 0.0010000000474974513).</summary>
    public static double Widen(float value) => double.Parse(value.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
