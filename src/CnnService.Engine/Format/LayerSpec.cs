using System.Text.Json.Nodes;

namespace CnnService.Engine.Format;

/// <summary>
/// One entry of <c>model.json</c>'s <c>layers</c> list, as written. Which fields matter depends on
/// <see cref="Type"/>; defaults that depend on the type (pooling stride = kernel) are resolved
/// by the layer, not here, so a spec written back out says what its author said.
/// </summary>
public sealed class LayerSpec
{
    /// <summary>One of <see cref="ModelSpecJson.LayerTypes"/>: conv2d, relu, ..., softmax; add, sub, mul, div, concat, slice_channels.</summary>
    public required string Type { get; init; }
    /// <summary>Prefix of the layer's tensors in weights.safetensors (<c>name.weight</c>, <c>name.bias</c>).</summary>
    public string? Name { get; init; }

    /// <summary>
    /// What the layer reads, by name: earlier layers' names, or <see cref="ModelInput"/> for the model's input.
    /// Null (the sequential form) reads the previous layer's output, or the model's input for the first layer.
    /// </summary>
    public IReadOnlyList<string>? Inputs { get => _inputs; init => _inputs = value; }
    private IReadOnlyList<string>? _inputs;

    /// <summary>The name <see cref="Inputs"/> uses for the model's input.</summary>
    public const string ModelInput = "input";

    /// <summary>conv2d output channels.</summary>
    public int? Filters { get; init; }
    /// <summary>dense output features.</summary>
    public int? Units { get; init; }
    public Pair? Kernel { get; init; }
    public Pair? Stride { get; init; }
    public Padding Padding { get; init; } = Padding.Zero;
    /// <summary>"zeros" or "reflect" (conv2d).</summary>
    public string PaddingMode { get; init; } = "zeros";
    /// <summary>conv2d/dense: whether a <c>name.bias</c> tensor exists.</summary>
    public bool UseBias { get => _useBias; init => _useBias = value; }
    private bool _useBias = true;

    /// <summary>dropout probability of zeroing (training only).</summary>
    public float Rate { get; init; }
    /// <summary>batchnorm epsilon.</summary>
    public float Eps { get; init; } = 1e-5f;
    /// <summary>batchnorm running-statistics momentum (training only).</summary>
    public float Momentum { get; init; } = 0.1f;

    /// <summary>lrn: channels in the window, and b = a / (K + Alpha/Size * sum a^2)^Beta.</summary>
    public int Size { get; init; } = 5;
    /// <summary>As written; each op that reads them has its own default (lrn 1e-4 and 0.75, hardsigmoid 0.2 and 0.5).</summary>
    public float? Alpha { get; init; }
    public float? Beta { get; init; }
    public float K { get; init; } = 1f;

    public JsonObject Extra { get; init; } = new();

    /// <summary>The name used in error messages: "layer 0 (conv1, conv2d)".</summary>
    public string Describe(int index) => Name is null ? $"layer {index} ({Type})" : $"layer {index} ({Name}, {Type})";

    /// <summary>This layer as written, but with a bias: a convolution the plan folds a batchnorm into (shares the lists and <see cref="Extra"/>).</summary>
    internal LayerSpec WithBias()
    {
        var copy = (LayerSpec)MemberwiseClone();
        copy._useBias = true;
        return copy;
    }

    /// <summary>As <see cref="WithBias"/>, reading the model's input: the layer as a model of its own (a measured plan times it so).</summary>
    internal LayerSpec AloneWithBias()
    {
        LayerSpec copy = WithBias();
        copy._inputs = null;
        return copy;
    }
}

/// <summary>A (height, width) pair; JSON accepts an integer or [h, w].</summary>
public readonly record struct Pair(int H, int W)
{
    public static Pair Square(int n) => new(n, n);
    public override string ToString() => H == W ? $"{H}" : $"[{H},{W}]";
}

/// <summary>Padding as written: explicit [h, w] (each side) or [top, left, bottom, right] (ONNX's order),
/// "same" (stride 1 only) or "valid" (= 0).</summary>
public readonly record struct Padding(PaddingKind Kind, int Top, int Left, int Bottom, int Right)
{
    public static readonly Padding Zero = new(PaddingKind.Explicit, 0, 0, 0, 0);
    public static readonly Padding Same = new(PaddingKind.Same, 0, 0, 0, 0);
    public static readonly Padding Valid = new(PaddingKind.Valid, 0, 0, 0, 0);
    public static Padding Of(int h, int w) => new(PaddingKind.Explicit, h, w, h, w);
    public static Padding Sides(int top, int left, int bottom, int right) => new(PaddingKind.Explicit, top, left, bottom, right);

    /// <summary>The same padding on both sides of each axis, as [h, w] writes it.</summary>
    public bool IsSymmetric => Top == Bottom && Left == Right;
}

public enum PaddingKind { Explicit, Same, Valid }
