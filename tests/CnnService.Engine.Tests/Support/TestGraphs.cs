using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Tests.Support;

/// <summary>Small graphs with the shapes of real networks' blocks, for the graph engine's tests.</summary>
internal static class TestGraphs
{
    public static readonly string[] Names = ["residual", "inception", "three-readers", "squeeze-excite"];

    public static ModelSpec Get(string name) => name switch
    {
        "residual" => Residual(),
        "inception" => Inception(),
        "three-readers" => ThreeReaders(),
        "squeeze-excite" => SqueezeExcite(),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    /// <summary>A stem, then ResNet's basic block: conv, relu, conv, add the block's input, relu.</summary>
    public static ModelSpec Residual() => Graph(new TensorShape(3, 9, 9),
        Conv("stem", 8, 3, 1),
        Layer("relu", "s"),
        Conv("c1", 8, 3, 1),
        Layer("relu", "r1"),
        Conv("c2", 8, 3, 1),
        Layer("add", "sum", "c2", "s"),
        Layer("relu", "out"));

    /// <summary>Inception's four branches over one stem, joined along channels.</summary>
    public static ModelSpec Inception() => Graph(new TensorShape(3, 8, 8),
        Conv("stem", 6, 1, 0),
        Layer("relu", "s"),
        Conv("a", 4, 1, 0, "s"),
        Conv("b1", 3, 1, 0, "s"),
        Layer("relu", "b1r"),
        Conv("b2", 5, 3, 1),
        new LayerSpec { Type = "maxpool2d", Name = "p", Inputs = ["s"], Kernel = Pair.Square(3), Stride = Pair.Square(1), Padding = Padding.Of(1, 1) },
        Conv("c", 2, 1, 0),
        Layer("concat", "cat", "a", "b2", "c", "s"),
        Layer("relu", "out"));

    /// <summary>One tensor read by three layers: a ReLU, a sigmoid, and SiLU's x * sigmoid(x).</summary>
    public static ModelSpec ThreeReaders() => Graph(new TensorShape(2, 7, 7),
        Conv("t", 5, 3, 1),
        Layer("relu", "r", "t"),
        Layer("sigmoid", "g", "t"),
        Layer("mul", "silu", "t", "g"),
        Layer("concat", "out", "r", "silu"));

    /// <summary>Squeeze-and-excite: a trunk scaled per channel by a gate computed from its own means.</summary>
    public static ModelSpec SqueezeExcite() => Graph(new TensorShape(3, 6, 6),
        Conv("c", 8, 3, 1),
        Layer("relu", "trunk"),
        Layer("global_avgpool", "gap"),
        new LayerSpec { Type = "dense", Name = "fc1", Units = 2 },
        Layer("relu", "fc1r"),
        new LayerSpec { Type = "dense", Name = "fc2", Units = 8 },
        Layer("sigmoid", "gate"),
        Layer("mul", "scaled", "trunk", "gate"));

    public static LayerSpec Conv(string name, int filters, int kernel, int padding, string? input = null) => new()
    {
        Type = "conv2d", Name = name, Filters = filters, Kernel = Pair.Square(kernel), Padding = Padding.Of(padding, padding),
        Inputs = input is null ? null : [input],
    };

    public static LayerSpec Layer(string type, string name, params string[] inputs) =>
        new() { Type = type, Name = name, Inputs = inputs.Length == 0 ? null : inputs };

    public static ModelSpec Graph(TensorShape input, params LayerSpec[] layers)
    {
        ModelSpec spec = TestModels.Spec(input, layers);
        return new ModelSpec { Format = ModelSpec.GraphFormat, Name = "graph", Input = spec.Input, Labels = [], Layers = layers };
    }
}
