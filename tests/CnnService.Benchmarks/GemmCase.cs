using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Benchmarks;

/// <summary>A GEMM problem C[M,N] = A[M,K] B[K,N].</summary>
public readonly record struct GemmShape(int M, int K, int N) : IComparable<GemmShape>, IComparable
{
    /// <summary>
    /// The engine's real GEMMs: a 64->64 3x3 conv on 56x56 (VGG-like), the Keras MNIST conv on a
    /// 64-image batch (K = 9: packing-bound), the MNIST dense layer at batch 64 (deep K), and a square one.
    /// </summary>
    public static IReadOnlyList<GemmShape> All { get; } =
    [
        new(64, 576, 3136),
        new(32, 9, 43264),
        new(100, 5408, 64),
        new(256, 256, 256),
    ];

    public double Flops => 2.0 * M * K * N;

    public override string ToString() => $"{M}x{K}x{N}";

    /// <summary>Declaration order, so BenchmarkDotNet's summary lists the shapes as <see cref="All"/> does.</summary>
    public int CompareTo(GemmShape other)
    {
        int byIndex = IndexOf(this).CompareTo(IndexOf(other));
        return byIndex != 0 ? byIndex : (M, K, N).CompareTo((other.M, other.K, other.N));
    }

    int IComparable.CompareTo(object? obj) => obj is GemmShape other ? CompareTo(other) : 1;

    private static int IndexOf(GemmShape shape)
    {
        int i = All.ToList().IndexOf(shape);
        return i < 0 ? int.MaxValue : i;
    }
}

/// <summary>
/// One single-threaded call of the engine's GEMM driver, set up as the engine's tests do: A
/// packed as weights, B a plain row-major K x N matrix fed through the im2col packer as the 1x1
/// convolution of a K-channel, 1 x N image (so packing costs the same copy a 1x1 conv pays),
/// C written row-major. Buffers are pinned once.
/// </summary>
public sealed unsafe class GemmCase
{
    private readonly PackedMatrix _a;
    private readonly float[] _b, _c, _panel;
    private readonly float* _pb, _pc, _pp;
    private readonly int _panels;

    public GemmCase(GemmShape shape, SimdLevel level)
    {
        if (!Simd.IsSupported(level)) throw new PlatformNotSupportedException($"{level} is not accelerated on this CPU.");
        Shape = shape;
        Level = level;
        var random = new Random(1);
        float[] a = new float[shape.M * shape.K];
        for (int i = 0; i < a.Length; i++) a[i] = (float)random.NextDouble() - 0.5f;
        float[] bias = new float[shape.M];
        _a = new PackedMatrix(a, shape.M, shape.K, bias);

        _b = Pinned((long)shape.K * shape.N);
        for (int i = 0; i < _b.Length; i++) _b[i] = (float)random.NextDouble() - 0.5f;
        _c = Pinned((long)shape.M * shape.N);
        _panel = Pinned(Gemm.ScratchFloats(_a, level));
        _pb = Address(_b);
        _pc = Address(_c);
        _pp = Address(_panel);
        int nr = Gemm.PanelWidth(level);
        _panels = (shape.N + nr - 1) / nr;
    }

    public GemmShape Shape { get; }
    public SimdLevel Level { get; }

    public void Run()
    {
        int k = Shape.K, n = Shape.N;
        var packer = new Im2ColPacker(_pb, 1, k, 1, n, 1, 1, 1, 1, 1, n);
        Gemm.Run(Level, _a, packer, n, _pc, n, false, 0, _panels, _pp);
    }

    /// <summary>The SIMD levels this CPU accelerates, widest first.</summary>
    public static IReadOnlyList<SimdLevel> Levels { get; } =
        new[] { SimdLevel.Vector512, SimdLevel.Vector256, SimdLevel.Scalar }.Where(Simd.IsSupported).ToArray();

    private static float[] Pinned(long length) => GC.AllocateArray<float>(checked((int)length), pinned: true);

    private static float* Address(float[] array) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
}
