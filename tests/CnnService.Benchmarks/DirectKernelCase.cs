using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Benchmarks;

/// <summary>
/// The direct 3x3 kernel alone (<see cref="DirectConv.Tile"/>, or <see cref="DirectConv256.Tile"/> at Vector256): one 64->64
/// layer of the conv pair on a 64x58x58 plane already padded, in the order Conv2D runs it (rows, then the two tiles of 32
/// filters, then the four tiles of 14 along the row), with nothing else: no padding pass, no border, no threads, no other
/// layer between calls. Set against the <c>conv3x3-64x2</c> model cases it says how much of a pass is the kernel and how
/// much the layer and the model around it.
/// </summary>
public sealed unsafe class DirectKernelCase
{
    private const int C = 64, M = 64, H = 56, W = 56, Wp = W + 2, Hp = H + 2, K = C * 9;
    private readonly SimdLevel _level;
    private readonly float[] _weights, _input, _output, _bias, _scratch;
    private readonly nint[] _taps;

    public DirectKernelCase(SimdLevel level)
    {
        if (level is not (SimdLevel.Vector512 or SimdLevel.Vector256)) throw new ArgumentOutOfRangeException(nameof(level), level, "direct tiles run at Vector512 or Vector256");
        _level = level;
        var random = new Random(1);
        float[] w = new float[M * K];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(random.NextDouble() - 0.5);
        _weights = level == SimdLevel.Vector512 ? DirectConv.Pack(w, M, K) : DirectConv256.Pack(w, M, K);
        _taps = DirectConv.Taps(3, 3, Wp);
        _input = GC.AllocateArray<float>(C * Hp * Wp, pinned: true);
        for (int i = 0; i < _input.Length; i++) _input[i] = (float)(random.NextDouble() * 2 - 1);
        _output = GC.AllocateArray<float>(M * H * W, pinned: true);
        _bias = GC.AllocateArray<float>(M, pinned: true);
        _scratch = GC.AllocateArray<float>(Math.Max(16 * DirectConv.Channels, DirectConv256.ScratchFloats), pinned: true);
    }

    /// <summary>The levels this CPU runs the case at: the widest direct tiles it accelerates, and Vector256 beside them.</summary>
    public static IEnumerable<SimdLevel> Levels =>
        new[] { SimdLevel.Vector512, SimdLevel.Vector256 }.Where(Simd.IsSupported);

    public static string Name => "direct 3x3 64->64 56x56 kernel only";

    public static double Flops => 2.0 * M * K * H * W;

    public void Run()
    {
        fixed (float* w = _weights, input = _input, output = _output, bias = _bias, scratch = _scratch)
        fixed (nint* taps = _taps)
        {
            for (int y = 0; y < H; y++)
                for (int c0 = 0; c0 < M; c0 += DirectConv.Channels)
                    for (int x = 0; x < W; x += DirectConv.Width)
                    {
                        float* at = input + y * Wp + x, to = output + (nint)c0 * H * W + y * W + x;
                        if (_level == SimdLevel.Vector512)
                            DirectConv.Tile<Stride1, WholeTile, TwoVectors>(w + (nint)c0 * K, bias + c0, at, 7, taps, 9, C, Hp * Wp, to, H * W, FusedActivation.Relu, scratch);
                        else
                            DirectConv256.Tile<WholeTile>(false, 1, w + (nint)c0 * K, bias + c0, at, 7, taps, 9, C, Hp * Wp, to, H * W, FusedActivation.Relu, scratch);
                    }
        }
    }
}
