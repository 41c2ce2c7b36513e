using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Training;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Cli;

public class TrainCommandTests
{
    /// <summary>One epoch of keras-mnist on 300 fixture digits, unless <paramref name="extra"/> sets the epochs.</summary>
    private static CliResult TrainDigits(string output, params string[] extra) =>
        Cnn.Run(["train", "--arch", "keras-mnist", "--data", Fixtures.MnistSmall, "--limit", "300", "--threads", "1", "--out", output,
                 .. extra.Contains("--epochs") ? extra : [.. extra, "--epochs", "1"]]);

    [Fact]
    public void Train_writes_a_model_version_that_loads_with_the_dataset_labels_and_its_metrics()
    {
        using var temp = new TempDir();
        string output = temp.PathOf("models/digits/1");

        CliResult r = TrainDigits(output);

        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        Assert.Contains($"wrote {output}", r.StdoutLines);
        Model model = ModelLoader.Load(output);
        Assert.Equal("digits", model.Spec.Name);
        Assert.Equal(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], model.Labels);
        JsonObject metrics = model.Spec.Metrics!;
        Assert.Equal(1000, (int)metrics["test_count"]!);
        Assert.Equal(300, (int)metrics["train_count"]!);
        Assert.Equal(1, (int)metrics["epochs"]!);
        Assert.False(File.Exists(output + ".ckpt"));
    }

    [Fact]
    public void The_recorded_test_accuracy_is_what_evaluate_measures()
    {
        using var temp = new TempDir();
        string output = temp.PathOf("models/digits/1");
        Assert.Equal(0, TrainDigits(output).ExitCode);

        CliResult r = Cnn.Run("evaluate", "--model", output, "--data", Fixtures.MnistSmall, "--json");

        double recorded = (double)ModelLoader.Load(output).Spec.Metrics!["test_accuracy"]!;
        double measured = JsonDocument.Parse(r.Stdout).RootElement.GetProperty("accuracy").GetDouble();
        Assert.Equal(recorded, measured, 6);
    }

    [Fact]
    public void Train_prints_a_summary_line_for_every_epoch()
    {
        using var temp = new TempDir();

        CliResult r = TrainDigits(temp.PathOf("m/1"), "--epochs", "2", "--validation-split", "0.2");

        Assert.Equal(0, r.ExitCode);
        Assert.Single(r.StdoutLines, l => l.StartsWith("epoch 1: loss ", StringComparison.Ordinal) && l.Contains("val_accuracy"));
        Assert.Single(r.StdoutLines, l => l.StartsWith("epoch 2: loss ", StringComparison.Ordinal));
    }

    [Fact]
    public void Train_never_overwrites_an_existing_version()
    {
        using var temp = new TempDir();
        string output = temp.PathOf("m/1");
        Directory.CreateDirectory(output);

        CliResult r = TrainDigits(output);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("already exists", r.Error);
    }

    [Fact]
    public void Train_will_not_start_over_an_interrupted_run_unless_told_to_resume()
    {
        using var temp = new TempDir();
        string output = temp.PathOf("m/1");
        Directory.CreateDirectory(temp.PathOf("m"));
        File.WriteAllText(output + ".ckpt", "");

        CliResult r = TrainDigits(output);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--resume", r.Error);
    }

    [Fact]
    public async Task A_run_killed_mid_epoch_resumes_from_its_periodic_checkpoint_not_from_the_epoch_start()
    {
        using var temp = new TempDir();
        string output = temp.PathOf("models/digits/1"), checkpoint = output + ".ckpt";
        // 640 digits in batches of 32: 20 steps an epoch. The run checkpoints after every step (a step takes more than a
        // microsecond) and holds after its first mid-epoch checkpoint (the trainer's test seam), however fast the machine.
        string[] train = ["train", "--arch", "keras-mnist", "--data", Fixtures.MnistSmall, "--limit", "640", "--epochs", "2", "--threads", "1", "--out", output];
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in (string[])[Path.Combine(AppContext.BaseDirectory, "cnn.dll"), .. train, "--checkpoint-seconds", "0.000001"]) start.ArgumentList.Add(arg);
        start.Environment["CNN_TRAIN_HOLD_AFTER_CHECKPOINT"] = "1";
        Checkpoint atKill;
        using (Process cnn = Process.Start(start)!)
        {
            try
            {
                cnn.BeginOutputReadLine(); // drained, so the pipe never fills and blocks it
                var clock = Stopwatch.StartNew(); // bounds a hang only
                while (ReadCheckpoint(checkpoint) is not { StepInEpoch: > 0 })
                {
                    if (cnn.HasExited) Assert.Fail($"cnn train exited ({cnn.ExitCode}) before a mid-epoch checkpoint: {await cnn.StandardError.ReadToEndAsync()}");
                    Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), "no mid-epoch checkpoint in two minutes");
                    await Task.Delay(10);
                }
            }
            finally
            {
                cnn.Kill(); // SIGKILL: no handler runs, nothing more is saved (and a failed wait leaves no held process behind)
                await cnn.WaitForExitAsync();
            }

            atKill = ReadCheckpoint(checkpoint)!;
        }

        CliResult resumed = Cnn.Run([.. train, "--resume"]);

        Assert.Equal(0, resumed.ExitCode);
        string expected = atKill.StepInEpoch > 0 ? $"epoch {atKill.Epoch + 1}, step {atKill.StepInEpoch} done" : $"{atKill.Epoch} epochs done";
        Assert.Contains($"resuming from {checkpoint} ({expected})", resumed.StdoutLines);
        Assert.True(atKill.Epoch > 0 || atKill.StepInEpoch > 0);
        Assert.Contains($"wrote {output}", resumed.StdoutLines);
    }

    /// <summary>The checkpoint's state, or null while there is none (it is replaced by a rename, never seen half written).</summary>
    private static Checkpoint? ReadCheckpoint(string path)
    {
        try
        {
            return File.Exists(path) ? Checkpoint.Load(path).State : null;
        }
        catch (ModelFormatException e) when (e.InnerException is FileNotFoundException)
        {
            return null;
        }
    }

    [Fact]
    public void Train_with_resume_and_no_checkpoint_starts_afresh()
    {
        using var temp = new TempDir();

        CliResult r = TrainDigits(temp.PathOf("m/1"), "--resume");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains(r.StdoutLines, l => l.Contains("starting afresh", StringComparison.Ordinal));
    }

    [Fact]
    public void Init_from_starts_training_from_a_model_versions_weights()
    {
        using var temp = new TempDir();
        string trained = temp.PathOf("m/1"), continued = temp.PathOf("m/2");
        Assert.Equal(0, TrainDigits(trained).ExitCode);

        // So small a learning rate leaves the weights where they started: the result is the model it started from.
        CliResult r = TrainDigits(continued, "--init-from", trained, "--lr", "1e-9");

        Assert.Equal(0, r.ExitCode);
        double before = (double)ModelLoader.Load(trained).Spec.Metrics!["test_accuracy"]!;
        double after = (double)ModelLoader.Load(continued).Spec.Metrics!["test_accuracy"]!;
        Assert.True(before > 0.3, $"the first model is no better than chance ({before:P1}), so the comparison would prove nothing");
        Assert.Equal(before, after, 3);
    }

    [Fact]
    public void Init_from_weights_of_another_architecture_is_an_error_naming_the_tensor()
    {
        using var temp = new TempDir();
        string lenet = temp.PathOf("lenet/1");
        Assert.Equal(0, Cnn.Run(["train", "--arch", "lenet5", "--data", Fixtures.MnistSmall, "--limit", "64", "--epochs", "1", "--threads", "1", "--out", lenet]).ExitCode);

        CliResult r = TrainDigits(temp.PathOf("m/1"), "--init-from", Path.Combine(lenet, "weights.safetensors"));

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("weights.safetensors", r.Error);
        Assert.Contains("conv1.weight", r.Error);
        Assert.False(Directory.Exists(temp.PathOf("m/1")));
    }

    [Fact]
    public void Init_from_a_missing_path_says_so()
    {
        using var temp = new TempDir();

        CliResult r = TrainDigits(temp.PathOf("m/1"), "--init-from", temp.PathOf("nowhere"));

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("no such model version folder or .safetensors file", r.Error);
    }

    [Fact]
    public void Init_and_init_from_together_are_a_usage_error()
    {
        using var temp = new TempDir();

        CliResult r = TrainDigits(temp.PathOf("m/1"), "--init", "glorot", "--init-from", temp.PathOf("m"));

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("give one of the two", r.Error);
    }

    [Theory]
    [InlineData("--optimizer", "rmsprop", "option --optimizer must be adam or sgd, got 'rmsprop'")]
    [InlineData("--schedule", "linear", "option --schedule must be constant, step or cosine, got 'linear'")]
    [InlineData("--epochs", "0", "option --epochs must be an integer from 1 to 10000, got '0'")]
    public void A_bad_setting_is_a_usage_error(string option, string value, string message)
    {
        using var temp = new TempDir();

        CliResult r = TrainDigits(temp.PathOf("m/1"), option, value);

        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"cnn: {message}", r.Error);
    }

    [Fact]
    public void Train_accepts_an_architecture_written_as_a_model_json_file()
    {
        using var temp = new TempDir();
        string arch = temp.PathOf("lenet.json");
        File.WriteAllText(arch, CnnService.Engine.Format.ModelSpecJson.ToJson(Architectures.LeNet5()));

        CliResult r = Cnn.Run("train", "--arch", arch, "--data", Fixtures.MnistSmall, "--limit", "100", "--epochs", "1", "--out", temp.PathOf("lenet/1"));

        Assert.Equal(0, r.ExitCode);
        Assert.Equal(["conv2d", "tanh", "avgpool2d", "conv2d", "tanh", "avgpool2d", "flatten", "dense", "tanh", "dense", "tanh", "dense", "softmax"],
            ModelLoader.Load(temp.PathOf("lenet/1")).Layers.Select(l => l.Type));
    }

    [Fact]
    public void An_unknown_architecture_is_a_usage_error_listing_the_known_ones()
    {
        using var temp = new TempDir();

        CliResult r = Cnn.Run("train", "--arch", "resnet", "--data", Fixtures.MnistSmall, "--out", temp.PathOf("m/1"));

        Assert.Equal(2, r.ExitCode);
        Assert.Equal("cnn: unknown architecture 'resnet' (known: keras-mnist, lenet5, tinyvgg, small-vgg, or a .json file)", r.Error);
    }

    [Fact]
    public void A_named_dataset_that_was_never_fetched_says_how_to_fetch_it()
    {
        using var temp = new TempDir();

        CliResult r = Cnn.Run("train", "--arch", "keras-mnist", "--data", "fashion-mnist", "--data-root", temp.Root, "--out", temp.PathOf("m/1"));

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("scripts/fetch-data.sh", r.Error);
    }
}
