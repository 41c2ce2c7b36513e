using CnnService.Engine.Format;

namespace CnnService.Engine.Runtime;

/// <summary>
/// The networks this project grew from, as specs ready to initialise, train or benchmark:
/// the Keras MNIST example, LeNet-5, CNN Explainer's TinyVGG, and the best small network we
/// found for 28x28 grayscale images, a VGG-style stack with batch normalisation.
/// </summary>
public static class Architectures
{
    private static readonly string[] Digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// <summary>CNN Explainer's ten Tiny ImageNet classes.</summary>
    private static readonly string[] TinyVggClasses =
        ["lifeboat", "ladybug", "pizza", "bell pepper", "school bus", "koala", "espresso", "red panda", "orange", "sport car"];

    public static IReadOnlyList<string> Names { get; } = ["keras-mnist", "lenet5", "tinyvgg", "small-vgg"];

    public static ModelSpec Get(string name) => name switch
    {
        "keras-mnist" => KerasMnist(),
        "lenet5" => LeNet5(),
        "tinyvgg" => TinyVgg(),
        "small-vgg" => SmallVgg(),
        _ => throw new ArgumentException($"Unknown architecture \"{name}\" (known: {string.Join(", ", Names)}).", nameof(name)),
    };

    /// <summary>conv 32 3x3, relu, maxpool 2, flatten, dense 100, relu, dense 10, softmax.</summary>
    public static ModelSpec KerasMnist() => new()
    {
        Name = "mnist",
        Description = "Keras MNIST example CNN",
        Input = Grayscale28(),
        Labels = Digits,
        Layers =
        [
            new LayerSpec { Type = "conv2d", Name = "conv1", Filters = 32, Kernel = Pair.Square(3) },
            new LayerSpec { Type = "relu" },
            new LayerSpec { Type = "maxpool2d", Kernel = Pair.Square(2) },
            new LayerSpec { Type = "flatten" },
            new LayerSpec { Type = "dense", Name = "fc1", Units = 100 },
            new LayerSpec { Type = "relu" },
            new LayerSpec { Type = "dense", Name = "fc2", Units = 10 },
            new LayerSpec { Type = "softmax" },
        ],
    };

    /// <summary>LeCun et al. 1998 on 28x28 input: the first convolution pads by 2 to keep 28x28; tanh and average pooling as in the paper.</summary>
    public static ModelSpec LeNet5() => new()
    {
        Name = "lenet5",
        Description = "LeNet-5",
        Input = Grayscale28(),
        Labels = Digits,
        Layers =
        [
            new LayerSpec { Type = "conv2d", Name = "conv1", Filters = 6, Kernel = Pair.Square(5), Padding = Padding.Of(2, 2) },
            new LayerSpec { Type = "tanh" },
            new LayerSpec { Type = "avgpool2d", Kernel = Pair.Square(2) },
            new LayerSpec { Type = "conv2d", Name = "conv2", Filters = 16, Kernel = Pair.Square(5) },
            new LayerSpec { Type = "tanh" },
            new LayerSpec { Type = "avgpool2d", Kernel = Pair.Square(2) },
            new LayerSpec { Type = "flatten" },
            new LayerSpec { Type = "dense", Name = "fc1", Units = 120 },
            new LayerSpec { Type = "tanh" },
            new LayerSpec { Type = "dense", Name = "fc2", Units = 84 },
            new LayerSpec { Type = "tanh" },
            new LayerSpec { Type = "dense", Name = "fc3", Units = 10 },
            new LayerSpec { Type = "softmax" },
        ],
    };

    /// <summary>CNN Explainer's TinyVGG: 3x64x64, four 3x3 convolutions of 10 filters, two max pools, one dense layer.</summary>
    public static ModelSpec TinyVgg() => new()
    {
        Name = "tinyvgg",
        Description = "CNN Explainer's TinyVGG",
        Input = new InputSpec { Channels = 3, Height = 64, Width = 64, Color = ColorMode.Rgb, Scale = 1f / 255, Mean = [0f, 0f, 0f], Std = [1f, 1f, 1f] },
        Labels = TinyVggClasses,
        Layers =
        [
            new LayerSpec { Type = "conv2d", Name = "conv_1_1", Filters = 10, Kernel = Pair.Square(3) },
            new LayerSpec { Type = "relu" },
            new LayerSpec { Type = "conv2d", Name = "conv_1_2", Filters = 10, Kernel = Pair.Square(3) },
            new LayerSpec { Type = "relu" },
            new LayerSpec { Type = "maxpool2d", Kernel = Pair.Square(2) },
            new LayerSpec { Type = "conv2d", Name = "conv_2_1", Filters = 10, Kernel = Pair.Square(3) },
            new LayerSpec { Type = "relu" },
            new LayerSpec { Type = "conv2d", Name = "conv_2_2", Filters = 10, Kernel = Pair.Square(3) },
            new LayerSpec { Type = "relu" },
            new LayerSpec { Type = "maxpool2d", Kernel = Pair.Square(2) },
            new LayerSpec { Type = "flatten" },
            new LayerSpec { Type = "dense", Name = "output", Units = 10 },
            new LayerSpec { Type = "softmax" },
        ],
    };

    /// <summary>
    /// Two VGG blocks (two 3x3 "same" convolutions with batchnorm and ReLU, then a 2x2 max pool;
    /// 32 then 64 filters), dropout, dense 128, dropout, dense 10. Convolutions have no bias:
    /// the batchnorm's shift replaces it. About 0.5 M parameters and 38 MFLOPs an image.
    /// </summary>
    public static ModelSpec SmallVgg() => new()
    {
        Name = "small-vgg",
        Description = "VGG-style CNN: 2x(conv3x3-bn-relu) 32, pool, 2x(conv3x3-bn-relu) 64, pool, dropout, dense 128, dropout, dense 10",
        Input = Grayscale28(),
        Labels = Digits,
        Layers =
        [
            .. ConvBnRelu("conv1", "bn1", 32), .. ConvBnRelu("conv2", "bn2", 32),
            new LayerSpec { Type = "maxpool2d", Kernel = Pair.Square(2) },
            .. ConvBnRelu("conv3", "bn3", 64), .. ConvBnRelu("conv4", "bn4", 64),
            new LayerSpec { Type = "maxpool2d", Kernel = Pair.Square(2) },
            new LayerSpec { Type = "flatten" },
            new LayerSpec { Type = "dropout", Rate = 0.25f },
            new LayerSpec { Type = "dense", Name = "fc1", Units = 128 },
            new LayerSpec { Type = "relu" },
            new LayerSpec { Type = "dropout", Rate = 0.5f },
            new LayerSpec { Type = "dense", Name = "fc2", Units = 10 },
            new LayerSpec { Type = "softmax" },
        ],
    };

    private static LayerSpec[] ConvBnRelu(string conv, string bn, int filters) =>
    [
        new LayerSpec { Type = "conv2d", Name = conv, Filters = filters, Kernel = Pair.Square(3), Padding = Padding.Same, UseBias = false },
        new LayerSpec { Type = "batchnorm", Name = bn },
        new LayerSpec { Type = "relu" },
    ];

    private static InputSpec Grayscale28() => new()
    {
        Channels = 1, Height = 28, Width = 28, Color = ColorMode.Grayscale, Scale = 1f / 255, Mean = [0f], Std = [1f],
    };
}
