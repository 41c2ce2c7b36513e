using System.Globalization;
using CnnService.Engine.Training;

namespace CnnService.Cli;

/// <summary>
/// Shows a run's progress: on a terminal one line rewritten in place a few times a second
/// (epoch, step/steps, loss, accuracy, images/s, ETA); into a file or pipe a line every tenth of
/// an epoch. Each finished epoch gets its own line with the validation figures.
/// </summary>
internal sealed class TrainReporter(TextWriter output, bool interactive) : IProgress<TrainProgress>
{
    private DateTime _lastDraw = DateTime.MinValue;

    public void Report(TrainProgress p)
    {
        if (p.Summary is EpochSummary summary)
        {
            output.WriteLine(Summary(summary));
            output.Flush();
            return;
        }

        bool epochEnd = p.Step == p.StepsPerEpoch;
        if (interactive)
        {
            DateTime now = DateTime.UtcNow;
            if (!epochEnd && now - _lastDraw < TimeSpan.FromMilliseconds(250)) return;
            _lastDraw = now;
            output.Write($"\r{Line(p)}   ");
            if (epochEnd) output.WriteLine();
        }
        else
        {
            int tenth = Math.Max(1, p.StepsPerEpoch / 10);
            if (p.Step % tenth != 0 && !epochEnd) return;
            output.WriteLine(Line(p));
        }

        output.Flush();
    }

    private static string Line(TrainProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {p.Epoch}/{p.Epochs}  step {p.Step}/{p.StepsPerEpoch}  loss {p.Loss:F4}  accuracy {p.Accuracy * 100:F2}%  {p.ImagesPerSecond:N0} img/s  lr {p.LearningRate:G3}  ETA {Format(p.Remaining)}");

    private static string Summary(EpochSummary e)
    {
        string validation = e.ValidationAccuracy is double v
            ? string.Create(CultureInfo.InvariantCulture, $"  val_loss {e.ValidationLoss:F4}  val_accuracy {v * 100:F2}%")
            : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"epoch {e.Epoch}: loss {e.Loss:F4}  accuracy {e.Accuracy * 100:F2}%{validation}  {e.Seconds:F1} s  {e.ImagesPerSecond:N0} img/s");
    }

    private static string Format(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : $"{t.Minutes}m{t.Seconds:D2}s";
}
