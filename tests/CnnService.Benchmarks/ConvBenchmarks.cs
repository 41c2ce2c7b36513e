using BenchmarkDotNet.Attributes;

namespace CnnService.Benchmarks;

/// <summary>
/// Whole forward passes (see <see cref="ConvCase"/>): two 3x3 64->64 convolutions on 64x56x56 at
/// batch 1 on 1 and 2 threads, and the Keras MNIST, LeNet-5 and TinyVGG architectures at batch 1
/// and 64 on 2 threads. The mean is per batch; the img/s and GFLOP/s columns divide the batch's
/// images and FLOPs by it, and % peak compares with the one-core FMA peak times the threads.
/// </summary>
/// <remarks>
/// BenchmarkDotNet's OperationsPerInvoke is a constant per method, so it cannot follow a batch
/// parameter; the derived columns report per-image rates instead.
/// </remarks>
[Config(typeof(BenchConfig))]
public class ConvBenchmarks : IFlopCounted
{
    private ConvRunner? _runner;

    [ParamsSource(nameof(Cases))]
    public ConvCase Case { get; set; } = ConvCase.All[0];

    public static IEnumerable<ConvCase> Cases => ConvCase.All;

    public int ThreadsUsed => Case.Threads;

    [GlobalSetup]
    public void Setup() => _runner = new ConvRunner(Case);

    [Benchmark]
    public void Forward() => _runner!.Run();

    public double FlopsPerOperation(string method) => Case.FlopsPerBatch(Case.Build());

    public double ImagesPerOperation(string method) => Case.Batch;
}
