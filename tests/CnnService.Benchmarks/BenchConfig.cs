using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Perfolizer.Horology;

namespace CnnService.Benchmarks;

/// <summary>
/// The suite's configuration: short runs (3 warm-up and 10 measured iterations of about 250 ms)
/// so all of it finishes in a few minutes on two cores, and the GFLOP/s, images/s and % of peak columns.
/// </summary>
public sealed class BenchConfig : ManualConfig
{
    public BenchConfig()
    {
        AddJob(Job.Default
            .WithWarmupCount(3)
            .WithIterationCount(10)
            .WithIterationTime(TimeInterval.FromMilliseconds(250))
            .WithId("Short"));
        AddColumn(FlopColumn.GFlops, FlopColumn.ImagesPerSecond, FlopColumn.PeakShare);
    }
}
