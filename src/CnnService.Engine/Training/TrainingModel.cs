using System.Text.Json.Nodes;
using CnnService.Engine.Data;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Training;

/// <summary>
/// The spec a training run starts from and the one it writes, shared by <c>cnn train</c> and the
/// service's train jobs so that both label a network the same way and can reject a network that
/// cannot train on a dataset before spending any time on it.
/// </summary>
public static class TrainingModel
{
    /// <summary>
    /// <paramref name="architecture"/> (built-in or from a file) named <paramref name="name"/> and labelled
    /// with the training set's classes: the network learns the dataset's classes, whatever it was drawn up for.
    /// </summary>
    public static ModelSpec For(ModelSpec architecture, string name, IDataset train) => new()
    {
        Name = name, Description = architecture.Description, Input = architecture.Input, Labels = train.Classes,
        Layers = architecture.Layers, Extra = architecture.Extra,
    };

    /// <summary>
    /// A bare layer list (no input, no labels) made a spec: its input is the dataset's images with pixel
    /// values scaled to 0..1, as the built-in architectures take them, and its labels the dataset's classes.
    /// </summary>
    public static ModelSpec FromLayers(IReadOnlyList<LayerSpec> layers, string name, IDataset train) => new()
    {
        Name = name, Input = InputFor(train.Shape), Labels = train.Classes, Layers = layers,
    };

    /// <summary>The input spec of raw 0..255 images of <paramref name="shape"/>: scaled to 0..1, no mean or deviation.</summary>
    public static InputSpec InputFor(TensorShape shape) => new()
    {
        Channels = shape.C, Height = shape.H, Width = shape.W,
        Color = shape.C switch { 1 => ColorMode.Grayscale, 3 => ColorMode.Rgb, _ => ColorMode.None },
        Scale = 1f / 255, Mean = new float[shape.C], Std = Enumerable.Repeat(1f, shape.C).ToArray(),
    };

    /// <summary>
    /// Throws a <see cref="ModelFormatException"/> when <paramref name="spec"/> cannot train on
    /// <paramref name="data"/>: another input shape, layers that do not fit together, labels that are not
    /// the network's outputs, a layer with no training form. It builds the training network for one image
    /// from fresh weights, so it is as strict as the trainer and cheap enough to run on a request.
    /// </summary>
    public static void CheckTrainable(ModelSpec spec, IDataset data)
    {
        var input = new TensorShape(spec.Input.Channels, spec.Input.Height, spec.Input.Width);
        if (input != data.Shape)
            throw new ModelFormatException($"the network takes {input} images, but {data.Name} holds {data.Shape} images.");
        WeightSet weights = WeightInitializer.Initialize(spec, 0);
        TrainNetwork.Create(spec, weights, 1, EngineOptions.Default with { Threads = 1 });
    }

    /// <summary><paramref name="spec"/> with <paramref name="metrics"/> as its model.json <c>metrics</c>.</summary>
    public static ModelSpec WithMetrics(ModelSpec spec, JsonObject metrics) => new()
    {
        Name = spec.Name, Description = spec.Description, Input = spec.Input, Labels = spec.Labels, Layers = spec.Layers,
        Metrics = metrics, Extra = spec.Extra, InputName = spec.InputName, OutputName = spec.OutputName,
    };
}
