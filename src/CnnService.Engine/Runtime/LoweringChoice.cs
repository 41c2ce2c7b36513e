using CnnService.Engine.Layers;

namespace CnnService.Engine.Runtime;

/// <summary>What a measured plan decided for one convolution: the lowering kept, the plan's fixed choice, and each
/// candidate's time (ms per pass of one image, the best round's median); <paramref name="FromCache"/> when the times
/// were measured by an earlier load (<see cref="PlanCache"/>).</summary>
public sealed record LoweringChoice(ConvLowering Lowering, ConvLowering Fixed, IReadOnlyDictionary<ConvLowering, double> Milliseconds, bool FromCache);

/// <summary>What a measured plan did, counted: convolutions with a choice, those not on the fixed choice, those taken from the cache.</summary>
public readonly record struct PlanTally(int Measured, int Changed, int FromCache)
{
    public static PlanTally Of(IReadOnlyDictionary<int, LoweringChoice> plan) =>
        new(plan.Count, plan.Values.Count(c => c.Lowering != c.Fixed), plan.Values.Count(c => c.FromCache));
}
