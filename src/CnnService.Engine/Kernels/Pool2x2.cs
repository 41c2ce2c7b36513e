using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Kernels;

/// <summary>
/// The common 2x2 stride-2 unpadded pool, vectorised: one 512-bit load of each of the two input
/// rows gives 16 columns; a lane permute gathers the even columns into the low half and the odd
/// into the high half, so one max (or add) of the halves yields 8 outputs. A row whose width is
/// not a multiple of 8 ends with one overlapping step instead of a scalar tail. Rows of 4 to 7
/// outputs take the same path at half width, as every row does at Vector256 (AVX2-only CPUs);
/// narrower rows are <see cref="PoolWindow"/>'s.
/// </summary>
internal static unsafe class Pool2x2
{
    /// <summary>Whether this level runs the pool here: Vector512 with AVX-512, Vector256 with AVX2.</summary>
    public static bool Supports(SimdLevel level) => level switch
    {
        SimdLevel.Vector512 => Avx512F.IsSupported,
        SimdLevel.Vector256 => Avx2.IsSupported,
        _ => false,
    };

    /// <summary>Narrower output rows go to <see cref="PoolWindow"/>: one vector step here needs four outputs.</summary>
    public const int MinOutputWidth = 4;

    private static readonly Vector512<int> EvensThenOdds = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    private static readonly Vector256<int> EvensThenOdds8 = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);

    /// <summary>Pools <paramref name="oh"/> row pairs of width <paramref name="w"/> into rows of <paramref name="ow"/>, at
    /// <paramref name="level"/> (<see cref="Supports"/>; at Vector256 every step is four outputs). Consecutive planes of
    /// even height are one taller plane, so callers may pass several at once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Plane(SimdLevel level, float* src, float* dst, int w, int oh, int ow, bool max)
    {
        if (ow < MinOutputWidth) throw new ArgumentOutOfRangeException(nameof(ow), ow, $"Pool2x2 needs at least {MinOutputWidth} outputs a row.");
        int step = level == SimdLevel.Vector512 && ow >= 8 ? 8 : 4;
        Vector512<int> perm = EvensThenOdds;
        Vector256<int> perm8 = EvensThenOdds8;
        for (int oy = 0; oy < oh; oy++)
        {
            float* r0 = src + (nint)2 * oy * w, r1 = r0 + w, o = dst + (nint)oy * ow;
            for (int ox = 0; ; ox += step)
            {
                if (ox > ow - step) ox = ow - step;
                if (step == 8) Store(r0 + 2 * ox, r1 + 2 * ox, o + ox, perm, max);
                else Store4(r0 + 2 * ox, r1 + 2 * ox, o + ox, perm8, max);
                if (ox == ow - step) break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(float* r0, float* r1, float* o, Vector256<int> perm, bool max)
    {
        Vector256<float> a = Vector256.Load(r0), b = Vector256.Load(r1);
        Vector256<float> v = Avx2.PermuteVar8x32(max ? Vector256.Max(a, b) : a + b, perm);
        Vector128<float> result = max ? Vector128.Max(v.GetLower(), v.GetUpper()) : (v.GetLower() + v.GetUpper()) * 0.25f;
        result.Store(o);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* r0, float* r1, float* o, Vector512<int> perm, bool max)
    {
        Vector512<float> a = Vector512.Load(r0), b = Vector512.Load(r1);
        Vector512<float> v = Avx512F.PermuteVar16x32(max ? Vector512.Max(a, b) : a + b, perm);
        Vector256<float> result = max ? Vector256.Max(v.GetLower(), v.GetUpper()) : (v.GetLower() + v.GetUpper()) * 0.25f;
        result.Store(o);
    }
}
