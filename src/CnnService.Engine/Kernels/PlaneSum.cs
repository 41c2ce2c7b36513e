using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Kernels;

/// <summary>
/// The sum of a run of floats (a global average pool's plane). The vector paths keep four vector
/// accumulators, so four adds are in flight and each lane sums a quarter as many values (the rounding
/// error grows with the values each partial sum holds); <see cref="SumScalar"/> is the twin, in double.
/// </summary>
internal static unsafe class PlaneSum
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Sum(SimdLevel level, float* x, int length)
    {
        if (level == SimdLevel.Scalar) return SumScalar(x, length);
        nint i = 0;
        float sum = 0f;
        if (level == SimdLevel.Vector512 && length >= 16)
        {
            Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
            for (; i <= length - 64; i += 64)
            {
                a0 += Vector512.Load(x + i);
                a1 += Vector512.Load(x + i + 16);
                a2 += Vector512.Load(x + i + 32);
                a3 += Vector512.Load(x + i + 48);
            }

            for (; i <= length - 16; i += 16) a0 += Vector512.Load(x + i);
            sum = Vector512.Sum((a0 + a1) + (a2 + a3));
        }
        else if (level >= SimdLevel.Vector256 && length >= 8)
        {
            Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
            for (; i <= length - 32; i += 32)
            {
                a0 += Vector256.Load(x + i);
                a1 += Vector256.Load(x + i + 8);
                a2 += Vector256.Load(x + i + 16);
                a3 += Vector256.Load(x + i + 24);
            }

            for (; i <= length - 8; i += 8) a0 += Vector256.Load(x + i);
            sum = Vector256.Sum((a0 + a1) + (a2 + a3));
        }

        for (; i < length; i++) sum += x[i];
        return sum;
    }

    /// <summary>The plain twin: one running sum, in double.</summary>
    public static float SumScalar(float* x, int length)
    {
        double sum = 0;
        for (int i = 0; i < length; i++) sum += x[i];
        return (float)sum;
    }
}
