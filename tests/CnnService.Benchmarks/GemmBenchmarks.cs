using BenchmarkDotNet.Attributes;
using CnnService.Engine.Runtime;

namespace CnnService.Benchmarks;

/// <summary>
/// The engine's packed GEMM on one thread for the shapes its layers produce (M x K x N), at every
/// SIMD level this CPU accelerates. Read GFLOP/s against the FMA peak: the AVX-512 micro-kernel
/// should reach most of it when K is deep; K = 9 is bound by packing B, not by FMAs.
/// </summary>
[Config(typeof(BenchConfig))]
public class GemmBenchmarks : IFlopCounted
{
    private GemmCase? _case;

    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; }

    [ParamsSource(nameof(Levels))]
    public SimdLevel Level { get; set; }

    public static IEnumerable<GemmShape> Shapes => GemmShape.All;

    public static IEnumerable<SimdLevel> Levels => GemmCase.Levels;

    [GlobalSetup]
    public void Setup() => _case = new GemmCase(Shape, Level);

    [Benchmark]
    public void Gemm() => _case!.Run();

    public double FlopsPerOperation(string method) => Shape.Flops;
}
