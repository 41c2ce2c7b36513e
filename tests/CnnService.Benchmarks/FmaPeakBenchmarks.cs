using BenchmarkDotNet.Attributes;

namespace CnnService.Benchmarks;

/// <summary>
/// This machine's FP32 peak per core, the baseline every other result is read against: FMAs on
/// 12 independent accumulators with 512-bit and 256-bit vectors (see <see cref="FmaKernels"/>).
/// Zen 5 runs two 512-bit FMAs per cycle: about 224 GFLOP/s per core; the 256-bit loop gets half.
/// </summary>
[Config(typeof(BenchConfig))]
public class FmaPeakBenchmarks : IFlopCounted
{
    [Benchmark]
    public float Vector512Fma() => FmaKernels.Vector512Loop(FmaKernels.DefaultIterations);

    [Benchmark]
    public float Vector256Fma() => FmaKernels.Vector256Loop(FmaKernels.DefaultIterations);

    public double FlopsPerOperation(string method) => method == nameof(Vector512Fma)
        ? FmaKernels.Flops512(FmaKernels.DefaultIterations)
        : FmaKernels.Flops256(FmaKernels.DefaultIterations);
}
