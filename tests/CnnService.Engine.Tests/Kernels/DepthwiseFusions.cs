using CnnService.Engine.Kernels;

namespace CnnService.Engine.Tests.Kernels;

/// <summary>The activation pairs the depthwise paths' tests run each geometry under.</summary>
internal static class DepthwiseFusions
{
    /// <summary>Activations computed exactly at every width: two paths that sum in the same order agree bit for bit under them.</summary>
    public static readonly (FusedActivation Pre, FusedActivation Post)[] Exact =
    [
        (FusedActivation.None, FusedActivation.None),
        (FusedActivation.Clamp(0, 6), FusedActivation.None),
        (FusedActivation.Clamp(0.25f, 0.75f), FusedActivation.Clamp(-0.5f, 0.5f)),   // a lower bound above zero must not reach the padding
    ];

    /// <summary>Every kind the model's plan fuses, SiLU too (its vector and scalar forms differ in the last bits).</summary>
    public static readonly (FusedActivation Pre, FusedActivation Post)[] All =
    [
        .. Exact,
        (FusedActivation.Silu, FusedActivation.None),
        (FusedActivation.None, FusedActivation.Silu),
        (FusedActivation.Silu, FusedActivation.Clamp(0, 6)),
    ];
}
