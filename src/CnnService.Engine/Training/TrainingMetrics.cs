using System.Globalization;
using System.Text.Json.Nodes;
using CnnService.Engine.Data;

namespace CnnService.Engine.Training;

/// <summary>
/// What a trained model.json records in <c>metrics</c>: the test score it was published with, and
/// enough of the run (data, settings, time) to reproduce or compare it. One definition, so a model
/// trained by <c>cnn train</c> and one trained by a service job describe themselves alike; each
/// caller appends how it was started (<c>train_command</c>, <c>train_job</c>).
/// </summary>
public static class TrainingMetrics
{
    public static JsonObject Create(string dataset, IDataset train, IDataset? validation, IDataset test, TrainOptions options,
        TrainResult result, double testLoss, double testAccuracy)
    {
        EpochSummary last = result.History[^1];
        var metrics = new JsonObject
        {
            ["dataset"] = dataset,
            ["test_accuracy"] = Math.Round(testAccuracy, 6),
            ["test_loss"] = Math.Round(testLoss, 6),
            ["test_count"] = test.Count,
            ["train_count"] = train.Count,
            ["train_accuracy"] = Math.Round(last.Accuracy, 6),
            ["epochs"] = options.Epochs,
            ["batch_size"] = options.BatchSize,
            ["optimizer"] = options.Optimizer.Name,
            ["learning_rate"] = options.Optimizer.LearningRate,
            ["schedule"] = options.Schedule.Kind,
            ["augment_shift"] = options.AugmentShift,
            ["seed"] = options.Seed,
            ["threads"] = options.Threads,
            ["training_seconds"] = Math.Round(result.Seconds, 1),
            ["trained_at"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        };
        if (validation is not null && last.ValidationAccuracy is double v)
        {
            metrics["validation_accuracy"] = Math.Round(v, 6);
            metrics["validation_count"] = validation.Count;
        }

        return metrics;
    }
}
