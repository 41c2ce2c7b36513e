using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using CnnService.Benchmarks;

// `quick`: a one-process Stopwatch pass over every case; anything else goes to BenchmarkDotNet
// (e.g. --filter '*', --filter '*Gemm*', --list flat).
if (args.Length > 0 && args[0] == "quick") return QuickRun.Run(args[1..]);

// `onnx`: imported ONNX networks against ONNX Runtime, interleaved in one process.
if (args.Length > 0 && args[0] == "onnx") return OnnxComparison.Run(args[1..]);

// `seeds`: the engine's own networks, exported to ONNX, against ONNX Runtime on the same weights (issue 17's table).
if (args.Length > 0 && args[0] == "seeds") return SeedComparison.Run(args[1..]);

// `layers`: where one ONNX network's pass goes in each runtime (ONNX Runtime's profiler beside the engine's per-layer medians).
if (args.Length > 0 && args[0] == "layers") return LayerComparison.Run(args[1..]);

// Results go next to this project (BenchmarkDotNet.Artifacts/ is git-ignored), not into whatever
// directory `dotnet run` was started from; --artifacts PATH still overrides.
IConfig config = DefaultConfig.Instance.WithArtifactsPath(Path.Combine(ProjectDirectory(), "BenchmarkDotNet.Artifacts"));
BenchmarkSwitcher.FromAssembly(typeof(FmaPeakBenchmarks).Assembly).Run(args, config);
return 0;

static string ProjectDirectory()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "CnnService.Benchmarks.csproj"))) return dir.FullName;
    }

    return Directory.GetCurrentDirectory();
}
