using CnnService.Engine.Data;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;
using CnnService.Engine.Training;

namespace CnnService.Engine.Tests.Training;

public class TrainerTests
{
    private static readonly TrainOptions OneThread = new() { Epochs = 1, BatchSize = 32, Threads = 1, Seed = 7 };

    private static IDataset Mnist(DatasetSplit split, int count) => DatasetSubset.First(IdxDataset.Open(Fixtures.MnistSmall, split), count);

    private static IDataset Fashion(DatasetSplit split) =>
        IdxDataset.Open(Fixtures.FashionMnistSmall, split, DatasetCatalog.ClassesOf("fashion-mnist"));

    private static ModelSpec KerasMnist(IDataset data)
    {
        ModelSpec spec = Architectures.KerasMnist();
        return new ModelSpec { Name = "test", Input = spec.Input, Labels = data.Classes, Layers = spec.Layers };
    }

    private static TrainResult Train(ModelSpec spec, IDataset train, TrainOptions options, string? checkpoint = null, bool resume = false,
        IProgress<TrainProgress>? progress = null, CancellationToken cancel = default, TimeSpan? checkpointEvery = null) =>
        new Trainer(spec, train, null, options).Run(WeightInitializer.Initialize(spec, (int)options.Seed), checkpoint, resume, progress, cancel, checkpointEvery);

    [Fact]
    public void A_short_keras_mnist_run_lowers_the_loss_on_held_out_digits()
    {
        IDataset train = Mnist(DatasetSplit.Train, 1000), test = Mnist(DatasetSplit.Test, 500);
        ModelSpec spec = KerasMnist(train);
        var trainer = new Trainer(spec, train, null, OneThread);
        var untrained = TrainNetwork.Create(spec, WeightInitializer.Initialize(spec, 7), 32, EngineOptions.Default with { Threads = 1 });
        (double before, _) = trainer.Evaluate(untrained, test);

        TrainResult result = trainer.Run(WeightInitializer.Initialize(spec, 7), null, false, null, default);
        (double after, _) = trainer.Evaluate(result.Network, test);

        Assert.True(after < before * 0.5, $"loss {before:F3} -> {after:F3}");
    }

    [Fact]
    public void Two_epochs_on_two_thousand_fashion_images_classify_three_quarters_of_a_thousand_held_out_ones()
    {
        IDataset train = Fashion(DatasetSplit.Train), test = Fashion(DatasetSplit.Test);
        ModelSpec spec = KerasMnist(train);
        var trainer = new Trainer(spec, train, null, OneThread with { Epochs = 2, Threads = 2 });

        TrainResult result = trainer.Run(WeightInitializer.Initialize(spec, 7), null, false, null, default);
        (_, double accuracy) = trainer.Evaluate(result.Network, test);

        Assert.Equal(2000, train.Count);
        Assert.Equal(1000, test.Count);
        Assert.True(accuracy >= 0.75, $"accuracy {accuracy:P2}");
    }

    [Fact]
    public void One_thread_runs_with_the_same_seed_are_identical_bit_for_bit()
    {
        IDataset train = Mnist(DatasetSplit.Train, 300);
        ModelSpec spec = KerasMnist(train);
        TrainOptions options = OneThread with { AugmentShift = 2 };

        float[][] first = Weights(Train(spec, train, options));
        float[][] second = Weights(Train(spec, train, options));

        Assert.Equal(first, second);
    }

    [Fact]
    public void A_different_seed_gives_different_weights()
    {
        IDataset train = Mnist(DatasetSplit.Train, 300);
        ModelSpec spec = KerasMnist(train);

        Assert.NotEqual(Weights(Train(spec, train, OneThread)), Weights(Train(spec, train, OneThread with { Seed = 8 })));
    }

    [Fact]
    public void A_run_interrupted_mid_epoch_and_resumed_ends_with_the_same_weights_as_an_uninterrupted_one()
    {
        using var temp = new TempDir();
        IDataset train = Mnist(DatasetSplit.Train, 320);
        ModelSpec spec = KerasMnist(train);
        TrainOptions options = OneThread with { Epochs = 2, AugmentShift = 1, Optimizer = new() { Name = "sgd", LearningRate = 0.05f, Momentum = 0.9f } };
        float[][] uninterrupted = Weights(Train(spec, train, options));

        string checkpoint = temp.File("run.ckpt");
        using var cancel = new CancellationTokenSource();
        var stopAt = new Progress(p => { if (p.Epoch == 2 && p.Step == 4) cancel.Cancel(); });
        TrainResult stopped = Train(spec, train, options, checkpoint, progress: stopAt, cancel: cancel.Token);
        TrainResult resumed = Train(spec, train, options, checkpoint, resume: true);

        Assert.False(stopped.Completed);
        Assert.True(resumed.Completed);
        Assert.Equal(uninterrupted, Weights(resumed));
        Assert.Equal(2, resumed.History.Count);
    }

    [Fact]
    public void With_a_checkpoint_interval_a_checkpoint_of_the_step_is_on_disk_mid_epoch_before_the_step_is_reported()
    {
        using var temp = new TempDir();
        IDataset train = Mnist(DatasetSplit.Train, 320);
        ModelSpec spec = KerasMnist(train);
        string checkpoint = temp.File("run.ckpt");
        (int Epoch, int Step)? seen = null;
        var look = new Progress(p =>
        {
            if (p is { Epoch: 1, Step: 3 }) { Checkpoint state = Checkpoint.Load(checkpoint).State; seen = (state.Epoch, state.StepInEpoch); }
        });

        Train(spec, train, OneThread, checkpoint, progress: look, checkpointEvery: TimeSpan.Zero);

        Assert.Equal((0, 3), seen); // epoch 0 (0-based) with 3 steps done: the first epoch, never finished, is not lost
    }

    [Fact]
    public void A_run_killed_after_a_mid_epoch_checkpoint_resumes_from_it_bit_for_bit()
    {
        using var temp = new TempDir();
        IDataset train = Mnist(DatasetSplit.Train, 320);
        ModelSpec spec = KerasMnist(train);
        TrainOptions options = OneThread with { Epochs = 2, AugmentShift = 1, Optimizer = new() { Name = "sgd", LearningRate = 0.05f, Momentum = 0.9f } };
        float[][] uninterrupted = Weights(Train(spec, train, options));

        // What the disk held when the process was killed right after step 4 of epoch 2 was reported: nothing was stopped, nothing saved on the way out.
        string checkpoint = temp.File("run.ckpt"), killed = temp.File("killed.ckpt");
        var copyAt = new Progress(p => { if (p is { Epoch: 2, Step: 4 }) File.Copy(checkpoint, killed); });
        Train(spec, train, options, checkpoint, progress: copyAt, checkpointEvery: TimeSpan.Zero);
        Checkpoint state = Checkpoint.Load(killed).State;
        TrainResult resumed = Train(spec, train, options, killed, resume: true);

        Assert.Equal((1, 4), (state.Epoch, state.StepInEpoch));
        Assert.True(resumed.Completed);
        Assert.Equal(uninterrupted, Weights(resumed));
        Assert.Equal(2, resumed.History.Count);
    }

    [Fact]
    public void Resuming_with_different_settings_is_refused_naming_what_differs()
    {
        using var temp = new TempDir();
        IDataset train = Mnist(DatasetSplit.Train, 64);
        ModelSpec spec = KerasMnist(train);
        string checkpoint = temp.File("run.ckpt");
        Train(spec, train, OneThread, checkpoint);

        var e = Assert.Throws<ArgumentException>(() => Train(spec, train, OneThread with { BatchSize = 16 }, checkpoint, resume: true));

        Assert.Contains("the batch size differs", e.Message);
    }

    [Fact]
    public void A_checkpoint_holds_the_network_and_the_optimizer_state()
    {
        using var temp = new TempDir();
        IDataset train = Mnist(DatasetSplit.Train, 64);
        ModelSpec spec = KerasMnist(train);
        string checkpoint = temp.File("run.ckpt");

        Train(spec, train, OneThread, checkpoint);
        (Checkpoint state, WeightSet network, WeightSet optimizer) = Checkpoint.Load(checkpoint);

        Assert.Equal(1, state.Epoch);
        Assert.Equal(0, state.StepInEpoch);
        Assert.Equal(2, state.OptimizerSteps);
        Assert.Equal(["conv1.bias", "conv1.weight", "fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"], network.Names);
        Assert.Contains("optimizer.m.conv1.weight", optimizer.Names);
        Assert.Contains("optimizer.v.fc2.bias", optimizer.Names);
    }

    [Fact]
    public void A_diverging_run_stops_with_a_clear_error()
    {
        IDataset train = Mnist(DatasetSplit.Train, 256);
        ModelSpec spec = KerasMnist(train);
        TrainOptions options = OneThread with { Optimizer = new() { Name = "sgd", LearningRate = 1e30f } };

        var e = Assert.Throws<InvalidOperationException>(() => Train(spec, train, options with { Epochs = 3 }));

        Assert.Contains("lower the learning rate", e.Message);
    }

    private static float[][] Weights(TrainResult result) => result.Network.Parameters.Select(p => (float[])p.Value.Clone()).ToArray();

    private sealed class Progress(Action<TrainProgress> report) : IProgress<TrainProgress>
    {
        public void Report(TrainProgress value) => report(value);
    }
}
