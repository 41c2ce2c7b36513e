using CnnService.Engine.Format;

namespace CnnService.Benchmarks;

/// <summary>
/// The benchmark networks that are not built-in architectures. Also compiled into the engine's tests (linked in
/// their project file), which check that ONNX Runtime runs their export to the engine's outputs: one definition for both.
/// </summary>
public static class BenchmarkNetworks
{
    /// <summary>Two 3x3 64->64 convolutions, padding 1, each with a ReLU, on 64x56x56: the shape of a VGG/ResNet stage.</summary>
    public static ModelSpec TwoConv(string name) => new()
    {
        Name = name,
        Description = "two 3x3 64->64 convolutions, padding 1, on 64x56x56",
        Input = new InputSpec { Channels = 64, Height = 56, Width = 56, Mean = new float[64], Std = Enumerable.Repeat(1f, 64).ToArray() },
        Labels = [],
        Layers =
        [
            new LayerSpec { Type = "conv2d", Name = "conv1", Filters = 64, Kernel = Pair.Square(3), Padding = Padding.Of(1, 1) },
            new LayerSpec { Type = "relu" },
            new LayerSpec { Type = "conv2d", Name = "conv2", Filters = 64, Kernel = Pair.Square(3), Padding = Padding.Of(1, 1) },
            new LayerSpec { Type = "relu" },
        ],
    };

    /// <summary>
    /// <see cref="TwoConv"/> made a classifier: global average pool and a dense layer of 10 after the two convolutions
    /// (issue 17's network). The head adds under 0.1 % to the FLOPs: the convolutions are still what is measured.
    /// </summary>
    public static ModelSpec TwoConvClassifier(string name)
    {
        ModelSpec convs = TwoConv(name);
        return new ModelSpec
        {
            Name = name + "-gap-fc10",
            Description = convs.Description + ", global average pool, dense 10",
            Input = convs.Input,
            Labels = [],
            Layers =
            [
                .. convs.Layers,
                new LayerSpec { Type = "global_avgpool" },
                new LayerSpec { Type = "flatten" },
                new LayerSpec { Type = "dense", Name = "fc", Units = 10 },
            ],
        };
    }
}
