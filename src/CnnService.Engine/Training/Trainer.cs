using System.Diagnostics;
using CnnService.Engine.Data;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Training.Optimizers;

namespace CnnService.Engine.Training;

/// <summary>
/// Runs mini-batch training: each epoch a seeded shuffle of the training set, one optimizer step
/// per batch (the last, short batch included), the learning rate from the schedule, a
/// validation pass at the epoch's end, and a checkpoint after every epoch, on cancellation and,
/// when asked, every so many seconds within an epoch, from which <see cref="Run"/> resumes exactly
/// (a mid-epoch checkpoint holds the step and the epoch's running sums). With one thread and a given seed a run is the same bit
/// for bit, resumed or not.
/// </summary>
public sealed class Trainer
{
    private const ulong ShuffleStream = 1, AugmentStream = 2, DropoutStream = 3, ValidationStream = 4;

    private readonly ModelSpec _spec;
    private readonly IDataset _train;
    private readonly IDataset? _validation;
    private readonly TrainOptions _options;

    public Trainer(ModelSpec spec, IDataset train, IDataset? validation, TrainOptions options)
    {
        options.Validate();
        if (train.Count == 0) throw new ArgumentException($"{train.Name} has no items to train on.");
        _spec = spec;
        _train = train;
        _validation = validation is { Count: > 0 } ? validation : null;
        _options = options;
    }

    /// <summary>
    /// Test seam for the crash tests of <c>cnn train</c> and the service: with CNN_TRAIN_HOLD_AFTER_CHECKPOINT=1 in the
    /// environment a run stops for good once its first mid-epoch checkpoint is on disk, so a test kills the process
    /// (SIGKILL) at a known point instead of racing a fast machine through a short run.
    /// </summary>
    private static readonly bool HoldAfterMidEpochCheckpoint = Environment.GetEnvironmentVariable("CNN_TRAIN_HOLD_AFTER_CHECKPOINT") == "1";

    public int StepsPerEpoch => (_train.Count + _options.BatchSize - 1) / _options.BatchSize;

    /// <summary>
    /// Trains from <paramref name="initial"/> weights, or, when <paramref name="checkpointPath"/>
    /// names an existing checkpoint and <paramref name="resume"/> is set, from that checkpoint.
    /// Stops early, after writing a checkpoint, when <paramref name="cancel"/> fires. With
    /// <paramref name="checkpointEvery"/>, also checkpoints after the first step that ends that long after
    /// the last checkpoint, so a killed process loses at most about that much training.
    /// </summary>
    public TrainResult Run(WeightSet initial, string? checkpointPath, bool resume, IProgress<TrainProgress>? progress, CancellationToken cancel,
        TimeSpan? checkpointEvery = null)
    {
        string specJson = ModelSpecJson.ToJson(_spec);
        Checkpoint? start = null;
        WeightSet weights = initial, optimizerState = WeightSet.FromTensors([]);
        if (resume && checkpointPath is not null && File.Exists(checkpointPath))
        {
            (start, weights, optimizerState) = Checkpoint.Load(checkpointPath);
            CheckResumable(start, specJson, checkpointPath);
        }

        var engine = EngineOptions.Default with { Threads = _options.Threads };
        TrainNetwork network = TrainNetwork.Create(_spec, weights, _options.BatchSize, engine);
        if (network.NeedsTwoImages && (_train.Count < 2 || _options.BatchSize < 2))
            throw new ArgumentException("This network normalises over the batch (batchnorm after a dense layer): it needs batches of at least two images.");
        Optimizer optimizer = Optimizer.Create(_options.Optimizer, network.Parameters);
        if (start is not null) optimizer.ImportState(optimizerState, start.OptimizerSteps);

        var loader = new BatchLoader(_train, _spec.Input);
        var history = new List<EpochSummary>(start?.History ?? []);
        int[] order = new int[_train.Count];
        int[] labels = new int[_options.BatchSize];
        int stepsPerEpoch = StepsPerEpoch;
        long totalSteps = (long)stepsPerEpoch * _options.Epochs;
        ulong seed = (ulong)_options.Seed;
        double secondsBefore = start?.Seconds ?? 0;
        var clock = Stopwatch.StartNew();
        TimeSpan lastSaved = TimeSpan.Zero;

        for (int epoch = start?.Epoch ?? 0; epoch < _options.Epochs; epoch++)
        {
            Shuffle(order, SplitMix64.Derive(seed, ShuffleStream, (ulong)epoch));
            bool resumingThisEpoch = start is not null && epoch == start.Epoch;
            int firstStep = resumingThisEpoch ? start!.StepInEpoch : 0;
            double lossSum = resumingThisEpoch ? start!.EpochLossSum : 0;
            long correct = resumingThisEpoch ? start!.EpochCorrect : 0, seen = resumingThisEpoch ? start!.EpochSeen : 0;
            var epochClock = Stopwatch.StartNew();
            long seenAtStart = seen;

            for (int step = firstStep; step < stepsPerEpoch; step++)
            {
                if (cancel.IsCancellationRequested)
                {
                    Save(checkpointPath, network, optimizer, specJson, epoch, step, secondsBefore + clock.Elapsed.TotalSeconds, lossSum, correct, seen, history);
                    return new TrainResult(network, history, secondsBefore + clock.Elapsed.TotalSeconds, Completed: false);
                }

                long globalStep = (long)epoch * stepsPerEpoch + step;
                int from = step * _options.BatchSize, count = Math.Min(_options.BatchSize, order.Length - from);
                if (count == 1 && network.NeedsTwoImages) continue; // batch statistics of one value are undefined: drop it, as PyTorch's drop_last would
                loader.Load(order.AsSpan(from, count), network.Input, labels, _options.AugmentShift, SplitMix64.Derive(seed, AugmentStream, (ulong)globalStep));
                double loss = network.Step(labels.AsSpan(0, count), SplitMix64.Derive(seed, DropoutStream, (ulong)globalStep), out int right);
                if (!double.IsFinite(loss))
                    throw new InvalidOperationException($"The loss became {loss} at epoch {epoch + 1}, step {step + 1}: lower the learning rate.");
                float lr = _options.Schedule.At(_options.Optimizer.LearningRate, globalStep, stepsPerEpoch, totalSteps);
                optimizer.Step(lr);

                lossSum += loss * count;
                correct += right;
                seen += count;
                if (checkpointEvery is TimeSpan every && step + 1 < stepsPerEpoch && clock.Elapsed - lastSaved >= every)
                {
                    Save(checkpointPath, network, optimizer, specJson, epoch, step + 1, secondsBefore + clock.Elapsed.TotalSeconds, lossSum, correct, seen, history);
                    lastSaved = clock.Elapsed;
                }

                double elapsed = epochClock.Elapsed.TotalSeconds, rate = (seen - seenAtStart) / Math.Max(elapsed, 1e-9);
                long stepsLeft = totalSteps - globalStep - 1;
                progress?.Report(new TrainProgress(epoch + 1, _options.Epochs, step + 1, stepsPerEpoch, lossSum / seen, (double)correct / seen, lr,
                    rate, TimeSpan.FromSeconds(secondsBefore + clock.Elapsed.TotalSeconds), TimeSpan.FromSeconds(stepsLeft * _options.BatchSize / Math.Max(rate, 1e-9))));
            }

            double? valLoss = null, valAccuracy = null;
            if (_validation is not null) (valLoss, valAccuracy) = Evaluate(network, _validation);
            double seconds = epochClock.Elapsed.TotalSeconds;
            var summary = new EpochSummary(epoch + 1, lossSum / seen, (double)correct / seen, valLoss, valAccuracy, seconds, (seen - seenAtStart) / Math.Max(seconds, 1e-9));
            history.Add(summary);
            Save(checkpointPath, network, optimizer, specJson, epoch + 1, 0, secondsBefore + clock.Elapsed.TotalSeconds, 0, 0, 0, history);
            lastSaved = clock.Elapsed;
            long done = (long)(epoch + 1) * stepsPerEpoch;
            progress?.Report(new TrainProgress(epoch + 1, _options.Epochs, stepsPerEpoch, stepsPerEpoch, summary.Loss, summary.Accuracy,
                _options.Schedule.At(_options.Optimizer.LearningRate, done - 1, stepsPerEpoch, totalSteps), summary.ImagesPerSecond,
                TimeSpan.FromSeconds(secondsBefore + clock.Elapsed.TotalSeconds),
                TimeSpan.FromSeconds((totalSteps - done) * _options.BatchSize / Math.Max(summary.ImagesPerSecond, 1e-9)), summary));
        }

        return new TrainResult(network, history, secondsBefore + clock.Elapsed.TotalSeconds, Completed: true);
    }

    /// <summary>Mean loss and accuracy of the network (inference mode) on <paramref name="data"/>.</summary>
    public (double Loss, double Accuracy) Evaluate(TrainNetwork network, IDataset data)
    {
        var loader = new BatchLoader(data, _spec.Input);
        int batch = network.MaxBatch;
        int[] indices = new int[batch], labels = new int[batch];
        float[] dLogits = new float[batch * network.Classes];
        double lossSum = 0;
        long correct = 0;
        for (int from = 0; from < data.Count; from += batch)
        {
            int count = Math.Min(batch, data.Count - from);
            for (int i = 0; i < count; i++) indices[i] = from + i;
            loader.Load(indices.AsSpan(0, count), network.Input, labels, 0, 0);
            ReadOnlySpan<float> logits = network.Evaluate(count);
            lossSum += SoftmaxCrossEntropy.Compute(logits, labels.AsSpan(0, count), network.Classes, dLogits, out int right) * count;
            correct += right;
        }

        return (lossSum / data.Count, (double)correct / data.Count);
    }

    private void Save(string? path, TrainNetwork network, Optimizer optimizer, string specJson, int epoch, int step, double seconds,
        double lossSum, long correct, long seen, List<EpochSummary> history)
    {
        if (path is null) return;
        var state = new Checkpoint
        {
            Spec = specJson, Options = _options, TrainCount = _train.Count, Epoch = epoch, StepInEpoch = step,
            OptimizerSteps = optimizer.Steps, Seconds = seconds, EpochLossSum = lossSum, EpochCorrect = correct, EpochSeen = seen,
            History = history.ToArray(),
        };
        Checkpoint.Save(path, state, network.ExportTensors().Concat(optimizer.ExportState()));
        if (HoldAfterMidEpochCheckpoint && step > 0) Thread.Sleep(Timeout.Infinite);
    }

    private void CheckResumable(Checkpoint state, string specJson, string path)
    {
        string? mismatch =
            state.Spec != specJson ? "the network" :
            state.TrainCount != _train.Count ? $"the training set ({state.TrainCount:N0} images then, {_train.Count:N0} now)" :
            state.Options.BatchSize != _options.BatchSize ? "the batch size" :
            state.Options.Seed != _options.Seed ? "the seed" :
            state.Options.Optimizer != _options.Optimizer ? "the optimizer settings" :
            state.Options.Schedule != _options.Schedule ? "the learning-rate schedule" :
            state.Options.AugmentShift != _options.AugmentShift ? "the augmentation" : null;
        if (mismatch is not null)
            throw new ArgumentException($"{path} was made with different settings ({mismatch} differs): resume with the same settings, or start afresh without --resume.");
    }

    /// <summary>order = a seeded permutation of 0..n-1 (Fisher-Yates).</summary>
    private static void Shuffle(int[] order, ulong seed)
    {
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var random = new SplitMix64(seed);
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
    }

    /// <summary>
    /// Holds out <paramref name="fraction"/> of <paramref name="data"/> (a seeded random choice)
    /// for validation; the rest is the training set. No validation set when the fraction rounds to none.
    /// </summary>
    public static (IDataset Train, IDataset? Validation) SplitValidation(IDataset data, double fraction, long seed)
    {
        int held = (int)Math.Round(data.Count * fraction);
        if (held == 0) return (data, null);
        if (held >= data.Count) throw new ArgumentException("The validation split leaves no training images.");
        int[] order = new int[data.Count];
        Shuffle(order, SplitMix64.Derive((ulong)seed, ValidationStream, 0));
        return (new DatasetSubset(data, order.AsSpan(held), $"{data.Name}, {data.Count - held:N0} for training"),
                new DatasetSubset(data, order.AsSpan(0, held), $"{data.Name}, {held:N0} held out"));
    }
}

/// <summary>What a run produced: the trained network, its epoch history, the training time, and whether it ran to the end.</summary>
public sealed record TrainResult(TrainNetwork Network, IReadOnlyList<EpochSummary> History, double Seconds, bool Completed);
