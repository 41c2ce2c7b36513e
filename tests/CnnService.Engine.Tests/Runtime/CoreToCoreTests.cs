using CnnService.Engine.Runtime;

namespace CnnService.Engine.Tests.Runtime;

public class CoreToCoreTests
{
    [Fact]
    public void Round_trip_is_a_positive_time_with_two_cpus_and_none_with_one()
    {
        double? ns = CoreToCore.RoundTripNanoseconds(samples: 3, sampleTime: TimeSpan.FromMilliseconds(5));

        if (Environment.ProcessorCount < 2)
        {
            Assert.Null(ns);
            return;
        }

        // Positive and a number; infinite only when the other thread never got a CPU in a sample, which says so.
        Assert.True(Assert.NotNull(ns) > 0, $"round trip {ns} ns");
    }

    [Fact]
    public void Round_trip_probes_one_after_another_each_give_an_answer()
    {
        // Each probe has its own counter and thread, and its thread ends with it: a second probe starts clean.
        for (int i = 0; i < 3; i++)
            Assert.Equal(Environment.ProcessorCount > 1, CoreToCore.RoundTripNanoseconds(samples: 1, sampleTime: TimeSpan.FromMilliseconds(2)) > 0);
    }

    [Theory]
    [InlineData(55.4, "55 ns")]
    [InlineData(329.6, "330 ns")]
    [InlineData(double.PositiveInfinity, "no answer")]
    public void Format_gives_whole_nanoseconds_or_says_the_other_thread_never_answered(double ns, string expected)
    {
        Assert.Equal(expected, CoreToCore.Format(ns));
    }
}
