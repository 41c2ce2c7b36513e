using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Kernels;

/// <summary>How <see cref="UnaryDriver"/> walks a span: an element's value does not depend on where the span starts or ends.</summary>
public unsafe class UnaryDriverTests
{
    [Theory]
    [MemberData(nameof(TestModels.SimdLevels), MemberType = typeof(TestModels))]
    public void An_element_gets_the_same_value_wherever_it_falls_in_the_span(SimdLevel level)
    {
        // A batch cut into chunks, or a layer into threads, starts and ends its spans anywhere: in a whole vector or in the tail.
        float[] x = TestModels.Random(53, seed: 5, scale: 6f);
        float[] whole = Sigmoid(x, 0, x.Length, level);

        for (int start = 1; start < 17; start++)
        for (int end = x.Length - 17; end <= x.Length; end++)
            Assert.Equal(whole[start..end], Sigmoid(x, start, end, level));
    }

    private static float[] Sigmoid(float[] x, int start, int end, SimdLevel level)
    {
        var y = new float[end - start];
        fixed (float* px = x, py = y) UnaryDriver.Apply(new SigmoidOperator(), px + start, py, end - start, level);
        return y;
    }
}
