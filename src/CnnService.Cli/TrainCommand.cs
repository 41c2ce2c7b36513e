using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using CnnService.Engine.Data;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Training;
using CnnService.Engine.Training.Optimizers;
using CnnService.Imaging;

namespace CnnService.Cli;

/// <summary>
/// <c>cnn train</c>: trains an architecture on a dataset and writes a new model version,
/// atomically, with its test accuracy in model.json. A checkpoint beside the output after every
/// epoch (and on Ctrl-C or SIGTERM) lets <c>--resume</c> continue an interrupted run exactly.
/// </summary>
internal static class TrainCommand
{
    private static readonly OptionSpec Arch = new("--arch", TakesValue: true);
    private static readonly OptionSpec Data = new("--data", TakesValue: true);
    private static readonly OptionSpec DataRoot = new("--data-root", TakesValue: true);
    private static readonly OptionSpec Out = new("--out", TakesValue: true);
    private static readonly OptionSpec Name = new("--name", TakesValue: true);
    private static readonly OptionSpec Epochs = new("--epochs", TakesValue: true);
    private static readonly OptionSpec BatchSize = new("--batch-size", TakesValue: true);
    private static readonly OptionSpec OptimizerName = new("--optimizer", TakesValue: true);
    private static readonly OptionSpec Lr = new("--lr", TakesValue: true);
    private static readonly OptionSpec Momentum = new("--momentum", TakesValue: true);
    private static readonly OptionSpec Nesterov = new("--nesterov", TakesValue: false);
    private static readonly OptionSpec WeightDecay = new("--weight-decay", TakesValue: true);
    private static readonly OptionSpec Schedule = new("--schedule", TakesValue: true);
    private static readonly OptionSpec StepEpochs = new("--step-epochs", TakesValue: true);
    private static readonly OptionSpec Gamma = new("--gamma", TakesValue: true);
    private static readonly OptionSpec Augment = new("--augment-shift", TakesValue: true);
    private static readonly OptionSpec Seed = new("--seed", TakesValue: true);
    private static readonly OptionSpec Init = new("--init", TakesValue: true);
    private static readonly OptionSpec InitFrom = new("--init-from", TakesValue: true);
    private static readonly OptionSpec Threads = new("--threads", TakesValue: true);
    private static readonly OptionSpec Limit = new("--limit", TakesValue: true);
    private static readonly OptionSpec ValidationSplit = new("--validation-split", TakesValue: true);
    private static readonly OptionSpec Resume = new("--resume", TakesValue: false);
    private static readonly OptionSpec CheckpointSeconds = new("--checkpoint-seconds", TakesValue: true);

    public static Command Definition { get; } = new(
        "train",
        "train an architecture on a dataset and write a new model version",
        $"""
        usage: cnn train --arch NAME|FILE.json --data mnist|fashion-mnist|DIR --out DIR
                         [--epochs E] [--batch-size B] [--optimizer adam|sgd] [--lr X]
                         [--momentum M] [--nesterov] [--weight-decay W]
                         [--schedule constant|step|cosine] [--step-epochs N] [--gamma G]
                         [--augment-shift PX] [--seed S] [--init pytorch|glorot | --init-from PATH]
                         [--threads T] [--limit N]
                         [--validation-split F] [--name NAME] [--data-root DIR] [--resume]
                         [--checkpoint-seconds S]

        Trains on the dataset's training split, evaluates on its t10k split, and writes DIR
        (model.json with labels, input spec and metrics, and weights.safetensors) atomically:
        a half-written model never appears. After each epoch, every --checkpoint-seconds within one,
        and when interrupted, a checkpoint is written to DIR.ckpt (atomically: a crash mid-write leaves
        the previous one); --resume continues from it with the same settings.

          --arch NAME|FILE   a built-in architecture ({ModelSource.ArchNames}) or a model.json-style file
          --data NAME|DIR    mnist, fashion-mnist (fetched by {DatasetCatalog.FetchScript}), a folder of IDX files, or an
                             image folder: DIR/train/<label>/ and DIR/test/<label>/ holding images (or DIR/<label>/,
                             read for both), decoded for the architecture's input
          --out DIR          the new model version, e.g. models/mnist/3 (must not exist)
          --epochs E         passes over the training set (default: 10)
          --batch-size B     images per step (default: 32)
          --optimizer NAME   adam (default; Keras defaults) or sgd
          --lr X             learning rate (default: 0.001 for adam, 0.01 for sgd)
          --momentum M       sgd momentum (default: 0); --nesterov for Nesterov momentum
          --weight-decay W   L2 penalty added to the gradients (default: 0)
          --schedule KIND    constant (default), step (x gamma every --step-epochs) or cosine
          --augment-shift PX shift training images randomly by up to PX pixels (default: 0)
          --seed S           seed of the weights, shuffles, augmentation and dropout (default: 42)
          --init KIND        fresh weights as pytorch (default: U(+-1/sqrt(fan_in))) or glorot (Keras: glorot_uniform, zero biases) draws them
          --init-from PATH   start from these weights instead: a model version folder or a .safetensors file holding
                             exactly the tensors the architecture takes (fine-tuning, or a start shared with another framework)
          --threads T        threads (default: {Environment.ProcessorCount}); with 1 a run is reproducible bit for bit
          --limit N          train on the first N training images only
          --validation-split F  hold out this fraction of the training images to validate each epoch
          --name NAME        the model's name (default: the folder above DIR)
          --data-root DIR    where the named datasets live (default: ${DatasetCatalog.DataRootVariable} or ./data)
          --resume           continue from DIR.ckpt if it exists
          --checkpoint-seconds S  also checkpoint within an epoch once S seconds have passed since the last
                             checkpoint, so a killed run loses at most about S seconds (default: 30; 0: epoch ends only)
          -h, --help         show this help
        """,
        [Arch, Data, DataRoot, Out, Name, Epochs, BatchSize, OptimizerName, Lr, Momentum, Nesterov, WeightDecay, Schedule, StepEpochs, Gamma,
         Augment, Seed, Init, InitFrom, Threads, Limit, ValidationSplit, Resume, CheckpointSeconds],
        Run);

    private static int Run(ParsedArgs args, TextWriter stdout)
    {
        if (args.Positionals.Count > 0) throw new UsageException($"'cnn train' takes no file arguments (got '{args.Positionals[0]}')");
        string arch = args.Require(Arch.Name), data = args.Require(Data.Name), output = args.Require(Out.Name);
        TrainOptions options = ReadOptions(args);
        int limit = args.GetInt(Limit.Name, int.MaxValue, min: 1);
        double validationSplit = args.GetDouble(ValidationSplit.Name, 0, min: 0, minExclusive: false, max: 0.5);
        double checkpointSeconds = args.GetDouble(CheckpointSeconds.Name, 30, min: 0, minExclusive: false, max: 86_400);
        string checkpoint = Path.GetFullPath(output).TrimEnd(Path.DirectorySeparatorChar) + ".ckpt";
        if (Directory.Exists(output)) throw new CliException($"{output} already exists: a model version is never overwritten; choose a new version");
        if (File.Exists(checkpoint) && !args.Has(Resume.Name))
            throw new CliException($"{checkpoint} holds an interrupted run: add --resume to continue it, or delete it to start afresh");

        string? root = args.GetString(DataRoot.Name);
        // The architecture first: an image folder is decoded for its input.
        ModelSpec architecture = ReadArchitecture(arch);
        IDataset trainSplit = DatasetOpener.Open(data, DatasetSplit.Train, root, architecture.Input);
        IDataset testSplit = DatasetOpener.Open(data, DatasetSplit.Test, root, architecture.Input);
        if (trainSplit is ImageFolderDataset { SplitsShareImages: true })
            stdout.WriteLine($"note: {data} has no {ImageFolderDataset.TrainFolder}/ and {ImageFolderDataset.TestFolder}/ folders, so the test accuracy is measured on the training images");
        (IDataset train, IDataset? validation, IDataset test) = TrainingData.From(trainSplit, testSplit, limit, validationSplit, options.Seed);
        ModelSpec spec = TrainingModel.For(architecture, args.GetString(Name.Name) ?? DefaultName(output), train);

        WeightSet initial = InitialWeights(args, spec, (int)options.Seed);
        var trainer = new Trainer(spec, train, validation, options);
        stdout.WriteLine($"training {spec.Name} ({arch}) on {train.Name}: {train.Count:N0} images, {trainer.StepsPerEpoch:N0} steps of {options.BatchSize} per epoch, " +
                         $"{options.Epochs} epochs, {options.Optimizer.Name} lr {options.Optimizer.LearningRate.ToString(CultureInfo.InvariantCulture)}, {options.Threads} threads");
        if (args.Has(Resume.Name)) stdout.WriteLine(File.Exists(checkpoint) ? $"resuming from {checkpoint} ({Position(Checkpoint.Load(checkpoint).State)})" : $"no checkpoint at {checkpoint}: starting afresh");
        stdout.Flush();

        using var cancel = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; cancel.Cancel(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; cancel.Cancel(); });
        // A terminal gets one line redrawn in place; a file, a pipe or a test gets a line every tenth of an epoch.
        var reporter = new TrainReporter(stdout, interactive: stdout is StreamWriter && !Console.IsOutputRedirected);
        TrainResult result = trainer.Run(initial, checkpoint, args.Has(Resume.Name), reporter, cancel.Token,
            checkpointSeconds > 0 ? TimeSpan.FromSeconds(checkpointSeconds) : null);
        if (!result.Completed)
            throw new CliException($"interrupted: checkpoint written to {checkpoint}; rerun the same command with --resume to continue");

        (double testLoss, double testAccuracy) = trainer.Evaluate(result.Network, test);
        JsonObject metrics = TrainingMetrics.Create(data, train, validation, test, options, result, testLoss, testAccuracy);
        metrics["train_command"] = "cnn train " + string.Join(' ', args.Raw);
        ModelWriter.Write(output, TrainingModel.WithMetrics(spec, metrics), result.Network.ExportTensors());
        File.Delete(checkpoint);
        stdout.WriteLine($"test accuracy {testAccuracy * 100:F2}% on {test.Count:N0} images of {test.Name} (loss {testLoss:F4}); trained in {result.Seconds:F1} s");
        stdout.WriteLine($"wrote {output}");
        return ExitCodes.Ok;
    }

    private static TrainOptions ReadOptions(ParsedArgs args)
    {
        string optimizer = args.GetString(OptimizerName.Name) ?? "adam";
        if (optimizer is not ("adam" or "sgd")) throw new UsageException($"option --optimizer must be adam or sgd, got '{optimizer}'");
        string schedule = args.GetString(Schedule.Name) ?? "constant";
        if (schedule is not ("constant" or "step" or "cosine")) throw new UsageException($"option --schedule must be constant, step or cosine, got '{schedule}'");
        var options = new TrainOptions
        {
            Epochs = args.GetInt(Epochs.Name, 10, min: 1, max: 10_000),
            BatchSize = args.GetInt(BatchSize.Name, 32, min: 1, max: 65_536),
            Optimizer = new OptimizerOptions
            {
                Name = optimizer,
                LearningRate = (float)args.GetDouble(Lr.Name, optimizer == "adam" ? 1e-3 : 1e-2, min: 0, minExclusive: true, max: 10),
                Momentum = (float)args.GetDouble(Momentum.Name, 0, min: 0, minExclusive: false, max: 0.999),
                Nesterov = args.Has(Nesterov.Name),
                WeightDecay = (float)args.GetDouble(WeightDecay.Name, 0, min: 0, minExclusive: false, max: 1),
            },
            Schedule = new LearningRateSchedule
            {
                Kind = schedule,
                StepEpochs = args.GetInt(StepEpochs.Name, 1, min: 1),
                Gamma = (float)args.GetDouble(Gamma.Name, 0.1, min: 0, minExclusive: true, max: 1),
            },
            AugmentShift = args.GetInt(Augment.Name, 0, min: 0, max: 8),
            Seed = args.GetInt(Seed.Name, 42, min: 0),
            Threads = args.GetInt(Threads.Name, Environment.ProcessorCount, min: 1, max: 1024),
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }

        return options;
    }

    /// <summary>Fresh weights drawn as --init says, or the ones --init-from names, checked against the architecture before training starts.</summary>
    private static WeightSet InitialWeights(ParsedArgs args, ModelSpec spec, int seed)
    {
        if (args.GetString(InitFrom.Name) is string from)
        {
            if (args.Has(Init.Name)) throw new UsageException("--init draws fresh weights and --init-from reads them: give one of the two");
            string path = Directory.Exists(from) ? Path.Combine(from, ModelLoader.WeightsFile) : from;
            if (!File.Exists(path)) throw new CliException($"{from}: no such model version folder or .safetensors file");
            WeightSet weights = SafeTensors.Read(path);
            Model.Create(spec, weights, EngineOptions.Default with { Threads = 1 }); // a misfit fails here, naming the tensor, before any training
            return weights;
        }

        WeightInit init = args.GetString(Init.Name) switch
        {
            null or "pytorch" => WeightInit.PyTorch,
            "glorot" => WeightInit.Glorot,
            string other => throw new UsageException($"--init must be pytorch or glorot (got '{other}')"),
        };
        return WeightInitializer.Initialize(spec, seed, init);
    }

    /// <summary>A built-in architecture or a spec file (whose name and labels <see cref="TrainingModel.For"/> then replaces).</summary>
    private static ModelSpec ReadArchitecture(string arch) =>
        Architectures.Names.Contains(arch, StringComparer.Ordinal) ? Architectures.Get(arch)
        : arch.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? ModelSpecJson.Load(arch)
        : throw new UsageException($"unknown architecture '{arch}' (known: {ModelSource.ArchNames}, or a .json file)");

    /// <summary>Where a checkpoint stands, 1-based as the progress lines count: "epoch 2, step 4 done" or "2 epochs done".</summary>
    private static string Position(Checkpoint state) =>
        state.StepInEpoch > 0 ? $"epoch {state.Epoch + 1}, step {state.StepInEpoch} done" : $"{state.Epoch} epochs done";

    /// <summary>models/mnist/3 is version 3 of "mnist".</summary>
    private static string DefaultName(string output)
    {
        string full = Path.GetFullPath(output).TrimEnd(Path.DirectorySeparatorChar);
        return Path.GetFileName(Path.GetDirectoryName(full)) is { Length: > 0 } parent ? parent : Path.GetFileName(full);
    }
}
