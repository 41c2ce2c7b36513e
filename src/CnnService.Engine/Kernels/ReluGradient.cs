using System.Numerics;
using System.Runtime.CompilerServices;

namespace CnnService.Engine.Kernels;

/// <summary>
/// ReLU's backward pass, dx = dy where y &gt; 0, else 0, read off the forward output. Vectorised
/// with a select: a branch on the sign of each activation mispredicts half the time, which made
/// the scalar loop a tenth of a training step.
/// </summary>
internal static class ReluGradient
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int i = 0;
        for (; i <= y.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var positive = Vector.GreaterThan(new Vector<float>(y[i..]), Vector<float>.Zero);
            Vector.ConditionalSelect(positive, new Vector<float>(dy[i..]), Vector<float>.Zero).CopyTo(dx[i..]);
        }

        for (; i < y.Length; i++) dx[i] = y[i] > 0f ? dy[i] : 0f;
    }
}
