using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnService.Engine.Kernels;

/// <summary>A tile's work generic over the activation it applies after the bias as it stores:
/// <see cref="TileActivation.Run"/> calls it with the operator type.</summary>
internal interface ITileStore
{
    /// <summary>Runs with <typeparamref name="TAct"/>: <see cref="IdentityOperator"/>, <see cref="ReluOperator"/>, or
    /// <see cref="ClipOperator"/> with its bounds <paramref name="lo"/> and <paramref name="hi"/>.</summary>
    void Run<TAct>(float lo, float hi) where TAct : struct, IUnaryOperator;
}

/// <summary>
/// Where the register tiles (<see cref="DirectConv"/>, <see cref="DirectConv256"/>, <see cref="PointwiseGemm256"/>) turn the
/// activation fused after them into an operator type, and apply it to a vector of sums. They fuse none, a ReLU or a clip:
/// a ReLU is one max rather than a clamp to +infinity, and a clip's bounds go in as values, since an operator passed in was
/// copied to the stack at each of a tile's stores. (<see cref="FusedActivations"/> does the depthwise kernels' pairs.)
/// </summary>
internal static class TileActivation
{
    public static void Run<TKernel>(in FusedActivation act, ref TKernel kernel) where TKernel : struct, ITileStore
    {
        switch (act.Kind)
        {
            case FusedActivationKind.Clamp when act.Lo == 0 && float.IsPositiveInfinity(act.Hi): kernel.Run<ReluOperator>(0, 0); break;
            case FusedActivationKind.Clamp: kernel.Run<ClipOperator>(act.Lo, act.Hi); break;
            case FusedActivationKind.None: kernel.Run<IdentityOperator>(0, 0); break;
            default: throw new ArgumentException($"Tiles do not fuse {act}.", nameof(act));
        }
    }

    /// <summary>The activation of sum + bias (<paramref name="lo"/> and <paramref name="hi"/> broadcast, read by a clip only).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Apply<TAct>(Vector512<float> sum, Vector512<float> bias, Vector512<float> lo, Vector512<float> hi) where TAct : struct, IUnaryOperator =>
        typeof(TAct) == typeof(IdentityOperator) ? sum + bias
        : typeof(TAct) == typeof(ClipOperator) ? ClipOperator.Apply(sum + bias, lo, hi)
        : default(TAct).Invoke(sum + bias); // ReLU: no settings; NaN and -0 as the ReLU layer gives them

    /// <inheritdoc cref="Apply{TAct}(Vector512{float}, Vector512{float}, Vector512{float}, Vector512{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Apply<TAct>(Vector256<float> sum, Vector256<float> bias, Vector256<float> lo, Vector256<float> hi) where TAct : struct, IUnaryOperator =>
        typeof(TAct) == typeof(IdentityOperator) ? sum + bias
        : typeof(TAct) == typeof(ClipOperator) ? ClipOperator.Apply(sum + bias, lo, hi)
        : default(TAct).Invoke(sum + bias);
}
