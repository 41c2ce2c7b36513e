using System.Text.Json.Nodes;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Benchmarks;

/// <summary>
/// A whole-model forward pass: a network, a batch size and a thread count. The network is
/// <see cref="TwoConv"/> (two 3x3 64->64 convolutions, padding 1, each with its ReLU fused, on
/// 64x56x56: the shape of a VGG/ResNet stage), one depthwise 3x3 layer of MobileNet V2
/// (<see cref="Depthwise32"/>, <see cref="Depthwise96"/>), or one of the engine's built-in architectures.
/// Weights are random (seed 1), input seeded.
/// </summary>
public sealed record ConvCase(string Network, int Batch, int Threads) : IComparable<ConvCase>, IComparable
{
    public const string TwoConv = "conv3x3-64x2";

    /// <summary>MobileNet V2's first depthwise layer: 32x112x112, 3x3, stride 1, padding 1, ReLU fused.</summary>
    public const string Depthwise32 = "dw3x3-32x112-s1";

    /// <summary>MobileNet V2's second: 96x112x112, 3x3, stride 2, padding 1 (to 56x56), ReLU fused.</summary>
    public const string Depthwise96 = "dw3x3-96x112-s2";

    public static IReadOnlyList<ConvCase> All { get; } =
    [
        new(TwoConv, 1, 1),
        new(TwoConv, 1, 2),
        new(TwoConv, 64, 1),
        new(TwoConv, 64, 2),
        new("keras-mnist", 1, 2),
        new("keras-mnist", 64, 2),
        new("lenet5", 1, 2),
        new("lenet5", 64, 2),
        new("tinyvgg", 1, 2),
        new("tinyvgg", 64, 2),
        new(Depthwise32, 1, 1),
        new(Depthwise32, 1, 2),
        new(Depthwise96, 1, 1),
        new(Depthwise96, 1, 2),
        .. from shape in SingleConv.All from run in new[] { (1, 1), (1, 2), (8, 2) } select new ConvCase(shape.Name, run.Item1, run.Item2),
    ];

    public override string ToString() => $"{Network} b{Batch} t{Threads}";

    /// <summary>Declaration order, so BenchmarkDotNet's summary lists the cases as <see cref="All"/> does.</summary>
    public int CompareTo(ConvCase? other)
    {
        if (other is null) return 1;
        int a = IndexOf(this), b = IndexOf(other);
        return a != b ? a.CompareTo(b) : string.CompareOrdinal(ToString(), other.ToString());
    }

    int IComparable.CompareTo(object? obj) => CompareTo(obj as ConvCase);

    private static int IndexOf(ConvCase c)
    {
        for (int i = 0; i < All.Count; i++)
        {
            if (All[i] == c) return i;
        }

        return int.MaxValue;
    }

    public ModelSpec Spec() => Network switch
    {
        TwoConv => TwoConvSpec(),
        Depthwise32 => DepthwiseSpec(Depthwise32, 32, 1),
        Depthwise96 => DepthwiseSpec(Depthwise96, 96, 2),
        _ when SingleConv.Find(Network) is { } single => single.Spec(),
        _ => Architectures.Get(Network),
    };

    public Model Build(SimdLevel? simd = null)
    {
        ModelSpec spec = Spec();
        return Model.Create(spec, WeightInitializer.Initialize(spec, seed: 1), new EngineOptions { Threads = Threads, Simd = simd ?? Simd.Best });
    }

    /// <summary>FLOPs of one forward pass of the whole batch.</summary>
    public double FlopsPerBatch(Model model) => (double)model.FlopsPerImage * Batch;

    public static ModelSpec TwoConvSpec() => BenchmarkNetworks.TwoConv(TwoConv);

    /// <summary>The conv pair made a classifier (issue 17's network, compared with ONNX Runtime by <c>seeds</c>).</summary>
    public static ModelSpec TwoConvClassifierSpec() => BenchmarkNetworks.TwoConvClassifier(TwoConv);

    /// <summary>One 3x3 depthwise convolution (groups = channels) with its ReLU fused, on channels x 112 x 112.</summary>
    public static ModelSpec DepthwiseSpec(string name, int channels, int stride) => new()
    {
        Name = name,
        Description = $"3x3 depthwise convolution, stride {stride}, padding 1, on {channels}x112x112",
        Input = new InputSpec { Channels = channels, Height = 112, Width = 112, Mean = new float[channels], Std = Enumerable.Repeat(1f, channels).ToArray() },
        Labels = [],
        Layers =
        [
            new LayerSpec
            {
                Type = "conv2d", Name = "dw", Filters = channels, Kernel = Pair.Square(3), Stride = Pair.Square(stride), Padding = Padding.Of(1, 1),
                Extra = JsonNode.Parse($$"""{ "groups": {{channels}} }""")!.AsObject(),
            },
            new LayerSpec { Type = "relu" },
        ],
    };
}

/// <summary>A built model with its input and output buffers, ready to run.</summary>
public sealed class ConvRunner
{
    private readonly float[] _input, _output;

    public ConvRunner(ConvCase c, SimdLevel? simd = null)
    {
        Case = c;
        Model = c.Build(simd);
        var random = new Random(2);
        _input = new float[c.Batch * Model.InputShape.Size];
        for (int i = 0; i < _input.Length; i++) _input[i] = (float)(random.NextDouble() * 2 - 1);
        _output = new float[c.Batch * Model.OutputShape.Size];
    }

    public ConvCase Case { get; }
    public Model Model { get; }
    public double FlopsPerBatch => Case.FlopsPerBatch(Model);

    public void Run() => Model.Forward(_input, _output, Case.Batch);
}

/// <summary>
/// One plain convolution of an imported torchvision network, with its ReLU fused: the 1x1 and strided
/// shapes that dominate MobileNet V2, SqueezeNet 1.1 and ResNet-18 (named kernel-C-M-size-stride).
/// </summary>
public sealed record SingleConv(string Name, int C, int M, int Size, int Kernel, int Stride, int Pad)
{
    public static IReadOnlyList<SingleConv> All { get; } =
    [
        new("pw-320-1280-7", 320, 1280, 7, 1, 1, 0),      // MobileNet V2's last 1x1
        new("pw-960-160-7", 960, 160, 7, 1, 1, 0),        // MobileNet V2's 7x7 projection
        new("pw-96-576-14", 96, 576, 14, 1, 1, 0),        // MobileNet V2's 14x14 expansion
        new("pw-192-32-28", 192, 32, 28, 1, 1, 0),        // MobileNet V2's 28x28 projection
        new("pw-512-1000-13", 512, 1000, 13, 1, 1, 0),    // SqueezeNet's classifier
        new("pw-64-256-13", 64, 256, 13, 1, 1, 0),        // SqueezeNet's fire9 expand1x1
        new("pw-64-128-56-s2", 64, 128, 56, 1, 2, 0),     // ResNet-18's layer2 downsample
        new("pw-672-112-14", 672, 112, 14, 1, 1, 0),      // EfficientNet-B0's 14x14 projection (112 filters: 3.5 tiles of 32)
        new("c3-64-128-56-s2", 64, 128, 56, 3, 2, 1),     // ResNet-18's layer2 first conv
        new("c3-256-512-14-s2", 256, 512, 14, 3, 2, 1),   // ResNet-18's layer4 first conv
        new("c7-3-64-224-s2", 3, 64, 224, 7, 2, 3),       // ResNet-18's stem
        new("c3-3-64-224-s2", 3, 64, 224, 3, 2, 0),       // SqueezeNet's stem
    ];

    public static SingleConv? Find(string name) => All.FirstOrDefault(s => s.Name == name);

    public ModelSpec Spec() => new()
    {
        Name = Name,
        Description = $"{Kernel}x{Kernel} convolution {C}->{M}, stride {Stride}, padding {Pad}, on {C}x{Size}x{Size}",
        Input = new InputSpec { Channels = C, Height = Size, Width = Size, Mean = new float[C], Std = Enumerable.Repeat(1f, C).ToArray() },
        Labels = [],
        Layers =
        [
            new LayerSpec { Type = "conv2d", Name = "conv", Filters = M, Kernel = Pair.Square(Kernel), Stride = Pair.Square(Stride), Padding = Padding.Of(Pad, Pad) },
            new LayerSpec { Type = "relu" },
        ],
    };
}
