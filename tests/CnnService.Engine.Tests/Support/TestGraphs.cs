using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Tests.Support;

/// <summary>Small graphs with the shapes of real networks' blocks, for the graph engine's tests.</summary>
internal static class TestGraphs
{
    public static readonly string[] Names = ["residual", "inception", "three-readers", "squeeze-excite", "inverted-residual", "mbconv", "fire"];

    public static ModelSpec Get(string name) => name switch
    {
        "residual" => Residual(),
        "inception" => Inception(),
        "three-readers" => ThreeReaders(),
        "squeeze-excite" => SqueezeExcite(),
        "inverted-residual" => InvertedResidual(),
        "mbconv" => MbConv(),
        "fire" => Fire(),
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

    /// <summary>
    /// MobileNet V2's blocks: expand 1x1, ReLU6, depthwise 3x3, ReLU6, project 1x1 (a residual add at stride 1),
    /// then a stride-2 block; the plan fuses each clip into the depthwise convolution next to it (one with a
    /// lower bound above zero, which must not reach the padding). Odd widths (19, then 10) leave every vector loop a tail.
    /// </summary>
    public static ModelSpec InvertedResidual() => Graph(new TensorShape(4, 11, 19),
        Conv("stem", 6, 1, 0),
        Clip("a", 0, 6),
        Depthwise("dw1", 6, 3, 1, 1),
        Clip("b", 0, 6),
        Conv("p1", 6, 1, 0),
        Layer("add", "sum", "p1", "stem"),
        Conv("e2", 12, 1, 0),
        Clip("c", 0.25f, 6),
        Depthwise("dw2", 12, 3, 2, 1),
        Clip("d", -1, 0.5f),
        Conv("p2", 5, 1, 0));

    /// <summary>
    /// EfficientNet's MBConv: expand 1x1, SiLU (sigmoid, then mul), depthwise 5x5 with stride 2, SiLU,
    /// squeeze-and-excite (mean, 1x1, SiLU, 1x1, sigmoid, scale), project 1x1; then a depthwise 3x3 whose
    /// output is read by its ReLU6 and by an add, so the ReLU6 runs on its own.
    /// </summary>
    public static ModelSpec MbConv() => Graph(new TensorShape(3, 13, 21),
        Conv("e", 8, 1, 0),
        Layer("sigmoid", "es"),
        Layer("mul", "ex", "e", "es"),
        Depthwise("dw", 8, 5, 2, 2),
        Layer("sigmoid", "ds"),
        Layer("mul", "dx", "ds", "dw"),
        Layer("global_avgpool", "sq"),
        Conv("r", 2, 1, 0),
        Layer("sigmoid", "rs"),
        Layer("mul", "rx", "r", "rs"),
        Conv("x", 8, 1, 0),
        Layer("sigmoid", "gate"),
        Layer("mul", "scaled", "dx", "gate"),
        Conv("p", 4, 1, 0),
        Depthwise("dw3", 4, 3, 1, 1),
        Clip("six", 0, 6),
        Layer("add", "out", "six", "dw3"));

    /// <summary>
    /// SqueezeNet's fire module (squeeze 1x1, then expand 1x1 and 3x3 side by side, joined), its parts joined in the
    /// order opposite to the one they are made in; then a max pool and a depthwise layer over the join, joined, and
    /// a 5x5 convolution of that join joined with it: at batch 1 every part is written in place (a direct, a pointwise,
    /// a pool, a depthwise and an im2col layer), one join inside another, the last one the caller's output.
    /// </summary>
    public static ModelSpec Fire() => Graph(new TensorShape(3, 13, 13),
        Conv("squeeze", 16, 1, 0),
        Layer("relu", "s"),
        Conv("e1", 32, 1, 0, "s"),
        Layer("relu", "e1r"),
        Conv("e3", 32, 3, 1, "s"),
        Layer("relu", "e3r"),
        Layer("concat", "j", "e3r", "e1r"),
        new LayerSpec { Type = "maxpool2d", Name = "q", Inputs = ["j"], Kernel = Pair.Square(3), Stride = Pair.Square(1), Padding = Padding.Of(1, 1) },
        Depthwise("dw", 64, 3, 1, 1, "j"),
        Layer("concat", "k", "q", "dw"),
        Conv("f", 8, 5, 2, "k"),
        Layer("concat", "out", "f", "k"));

    public static LayerSpec Depthwise(string name, int channels, int kernel, int stride, int padding, string? input = null) => new()
    {
        Type = "conv2d", Name = name, Filters = channels, Kernel = Pair.Square(kernel), Stride = Pair.Square(stride), Padding = Padding.Of(padding, padding),
        Inputs = input is null ? null : [input],
        Extra = new System.Text.Json.Nodes.JsonObject { ["groups"] = channels },
    };

    public static LayerSpec Clip(string name, float min, float max) => new()
    {
        Type = "clip", Name = name, Extra = new System.Text.Json.Nodes.JsonObject { ["min"] = min, ["max"] = max },
    };

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
