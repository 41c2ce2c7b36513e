namespace CnnService.Engine.Kernels;

/// <summary>Which elementwise function a kernel fuses: none, a clamp to [Lo, Hi] (ReLU, ReLU6, clip), SiLU or hardswish.</summary>
internal enum FusedActivationKind { None, Clamp, Silu, HardSwish }

/// <summary>
/// An activation a kernel applies as it reads its input or stores its output, so that it needs no
/// pass of its own over memory (the depthwise convolution fuses one at each end).
/// </summary>
internal readonly record struct FusedActivation(FusedActivationKind Kind, float Lo, float Hi)
{
    public static FusedActivation None => default;

    /// <summary>max(x, 0), as a clamp to [0, +infinity].</summary>
    public static FusedActivation Relu => new(FusedActivationKind.Clamp, 0f, float.PositiveInfinity);

    public static FusedActivation Silu => new(FusedActivationKind.Silu, 0f, 0f);

    public static FusedActivation HardSwish => new(FusedActivationKind.HardSwish, 0f, 0f);

    /// <summary>min(max(x, lo), hi); an infinite bound is no bound.</summary>
    public static FusedActivation Clamp(float lo, float hi) => new(FusedActivationKind.Clamp, lo, hi);

    public bool IsNone => Kind == FusedActivationKind.None;

    /// <summary>The scalar twin, as the layer it stands for computes it.</summary>
    public float Apply(float x) => Kind switch
    {
        FusedActivationKind.Clamp => new ClipOperator(Lo, Hi).Invoke(x),
        FusedActivationKind.Silu => new SiluOperator().Invoke(x),
        FusedActivationKind.HardSwish => new HardSwishOperator().Invoke(x),
        _ => x,
    };

    public override string ToString() => Kind switch
    {
        FusedActivationKind.Clamp when Lo == 0 && float.IsPositiveInfinity(Hi) => "relu",
        FusedActivationKind.Clamp => $"clip [{Lo}, {Hi}]",
        FusedActivationKind.Silu => "silu",
        FusedActivationKind.HardSwish => "hardswish",
        _ => "none",
    };
}

/// <summary>A kernel body generic over the activations it fuses: <see cref="FusedActivations.Run"/> calls it with the operator types.</summary>
internal interface IFusedKernel
{
    void Run<TIn, TOut>(in TIn pre, in TOut post)
        where TIn : struct, IUnaryOperator
        where TOut : struct, IUnaryOperator;
}

/// <summary>
/// Where a pair of <see cref="FusedActivation"/>s (the depthwise kernels' before and after) becomes operator types: each
/// combination of (none, clamp, SiLU, hardswish) compiles its own copy of the kernel, with both functions inlined into its loops.
/// The register tiles fuse only after, and map it by <see cref="TileActivation"/>.
/// </summary>
internal static class FusedActivations
{
    public static void Run<TKernel>(in FusedActivation pre, in FusedActivation post, ref TKernel kernel)
        where TKernel : struct, IFusedKernel
    {
        switch (pre.Kind)
        {
            case FusedActivationKind.Clamp: After(new ClipOperator(pre.Lo, pre.Hi), post, ref kernel); break;
            case FusedActivationKind.Silu: After(default(SiluOperator), post, ref kernel); break;
            case FusedActivationKind.HardSwish: After(new HardSwishOperator(), post, ref kernel); break;
            default: After(default(IdentityOperator), post, ref kernel); break;
        }
    }

    private static void After<TKernel, TIn>(in TIn pre, in FusedActivation post, ref TKernel kernel)
        where TKernel : struct, IFusedKernel
        where TIn : struct, IUnaryOperator
    {
        switch (post.Kind)
        {
            case FusedActivationKind.Clamp: kernel.Run(pre, new ClipOperator(post.Lo, post.Hi)); break;
            case FusedActivationKind.Silu: kernel.Run(pre, default(SiluOperator)); break;
            case FusedActivationKind.HardSwish: kernel.Run(pre, new HardSwishOperator()); break; // not default: it holds its gate's constants
            default: kernel.Run(pre, default(IdentityOperator)); break;
        }
    }
}
