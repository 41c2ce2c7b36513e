using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnService.Benchmarks;

/// <summary>
/// This core's FP32 peak: a loop of fused multiply-adds on 12 independent accumulators. Twelve
/// chains hide the FMA latency (4 cycles on Zen 4/5, so 2 pipes need 8 in flight) with room to
/// spare, and the loop body has no loads, so the FMA pipes alone set the pace: 2 pipes x 16
/// lanes x 2 FLOPs per cycle with AVX-512, about 224 GFLOP/s at Zen 5's clocks. Every
/// accumulator converges to 1 (c = 0.999c + 0.001), so there are no denormals or overflow.
/// </summary>
public static class FmaKernels
{
    public const int Accumulators = 12;

    /// <summary>Loop trips per benchmark call: 12 M FMAs, about 2 ms at the AVX-512 peak.</summary>
    public const long DefaultIterations = 1 << 20;

    public static double Flops512(long iterations) => 2.0 * Vector512<float>.Count * Accumulators * iterations;

    public static double Flops256(long iterations) => 2.0 * Vector256<float>.Count * Accumulators * iterations;

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float Vector512Loop(long iterations)
    {
        Vector512<float> m = Vector512.Create(0.999f), a = Vector512.Create(0.001f);
        Vector512<float> c0 = Vector512.Create(0.10f), c1 = Vector512.Create(0.11f), c2 = Vector512.Create(0.12f), c3 = Vector512.Create(0.13f);
        Vector512<float> c4 = Vector512.Create(0.14f), c5 = Vector512.Create(0.15f), c6 = Vector512.Create(0.16f), c7 = Vector512.Create(0.17f);
        Vector512<float> c8 = Vector512.Create(0.18f), c9 = Vector512.Create(0.19f), c10 = Vector512.Create(0.20f), c11 = Vector512.Create(0.21f);
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, m, a); c1 = Vector512.FusedMultiplyAdd(c1, m, a);
            c2 = Vector512.FusedMultiplyAdd(c2, m, a); c3 = Vector512.FusedMultiplyAdd(c3, m, a);
            c4 = Vector512.FusedMultiplyAdd(c4, m, a); c5 = Vector512.FusedMultiplyAdd(c5, m, a);
            c6 = Vector512.FusedMultiplyAdd(c6, m, a); c7 = Vector512.FusedMultiplyAdd(c7, m, a);
            c8 = Vector512.FusedMultiplyAdd(c8, m, a); c9 = Vector512.FusedMultiplyAdd(c9, m, a);
            c10 = Vector512.FusedMultiplyAdd(c10, m, a); c11 = Vector512.FusedMultiplyAdd(c11, m, a);
        }

        return Vector512.Sum(((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)));
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float Vector256Loop(long iterations)
    {
        Vector256<float> m = Vector256.Create(0.999f), a = Vector256.Create(0.001f);
        Vector256<float> c0 = Vector256.Create(0.10f), c1 = Vector256.Create(0.11f), c2 = Vector256.Create(0.12f), c3 = Vector256.Create(0.13f);
        Vector256<float> c4 = Vector256.Create(0.14f), c5 = Vector256.Create(0.15f), c6 = Vector256.Create(0.16f), c7 = Vector256.Create(0.17f);
        Vector256<float> c8 = Vector256.Create(0.18f), c9 = Vector256.Create(0.19f), c10 = Vector256.Create(0.20f), c11 = Vector256.Create(0.21f);
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, m, a); c1 = Vector256.FusedMultiplyAdd(c1, m, a);
            c2 = Vector256.FusedMultiplyAdd(c2, m, a); c3 = Vector256.FusedMultiplyAdd(c3, m, a);
            c4 = Vector256.FusedMultiplyAdd(c4, m, a); c5 = Vector256.FusedMultiplyAdd(c5, m, a);
            c6 = Vector256.FusedMultiplyAdd(c6, m, a); c7 = Vector256.FusedMultiplyAdd(c7, m, a);
            c8 = Vector256.FusedMultiplyAdd(c8, m, a); c9 = Vector256.FusedMultiplyAdd(c9, m, a);
            c10 = Vector256.FusedMultiplyAdd(c10, m, a); c11 = Vector256.FusedMultiplyAdd(c11, m, a);
        }

        return Vector256.Sum(((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)));
    }

    /// <summary>
    /// The per-core peak in GFLOP/s at the widest accelerated width, best of a few ~10 ms runs:
    /// the figure the other results are read against.
    /// </summary>
    public static double MeasurePeakGFlops(int runs = 7)
    {
        bool wide = Vector512.IsHardwareAccelerated;
        const long iterations = 1 << 19;
        double best = double.MaxValue;
        for (int r = 0; r < runs + 2; r++)
        {
            long start = Stopwatch.GetTimestamp();
            if (wide) Vector512Loop(iterations);
            else Vector256Loop(iterations);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (r >= 2) best = Math.Min(best, seconds);
        }

        return (wide ? Flops512(iterations) : Flops256(iterations)) / best / 1e9;
    }
}
