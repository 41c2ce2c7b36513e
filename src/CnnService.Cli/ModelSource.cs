using CnnService.Engine.Format;
using CnnService.Engine.Onnx.Import;
using CnnService.Engine.Runtime;

namespace CnnService.Cli;

/// <summary>Where a verb gets its network: a model directory or a bare .onnx file (<c>--model PATH</c>) or a built-in architecture with random weights (<c>--arch NAME</c>).</summary>
internal static class ModelSource
{
    /// <summary>Seed of the random weights given to a built-in architecture.</summary>
    public const int ArchSeed = 1;

    public static readonly OptionSpec ModelOption = new("--model", TakesValue: true);
    public static readonly OptionSpec ArchOption = new("--arch", TakesValue: true);
    public static readonly OptionSpec SimdOption = new("--simd", TakesValue: true);
    public static readonly OptionSpec MeasureOption = new("--measure", TakesValue: false);
    public static readonly OptionSpec PlanCacheOption = new("--plan-cache", TakesValue: true);

    /// <summary><paramref name="options"/> with a measured plan when --measure is given.</summary>
    public static EngineOptions WithPlan(ParsedArgs args, EngineOptions options)
    {
        string? cache = args.GetString(PlanCacheOption.Name);
        if (!args.Has(MeasureOption.Name))
            return cache is null ? options : throw new UsageException("--plan-cache keeps what --measure measures; add --measure");
        return options with { Plan = PlanMode.Measure, PlanCache = cache is null ? null : new PlanCache(cache) };
    }

    public static string ArchNames => string.Join(", ", Architectures.Names);

    /// <summary>Loads the model the arguments name; exactly one of --model and --arch must be given.</summary>
    public static Model Load(ParsedArgs args, EngineOptions options, out string description)
    {
        args.RequireExactlyOne(ModelOption.Name, ArchOption.Name);
        if (args.GetString(ArchOption.Name) is string arch)
        {
            description = $"built-in architecture {arch} (random weights, seed {ArchSeed})";
            return FromArchitecture(arch, options);
        }

        string path = args.GetString(ModelOption.Name)!;
        description = Path.GetFullPath(path);
        if (File.Exists(path) && path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            // A bare .onnx file (as exported, no folder around it): named for the file.
            var (spec, weights) = OnnxImporter.Import(path, new OnnxImportOptions { Name = Path.GetFileNameWithoutExtension(path) });
            return Model.Create(spec, weights, options);
        }

        return ModelLoader.Load(path, options);
    }

    public static Model FromArchitecture(string arch, EngineOptions options)
    {
        if (!Architectures.Names.Contains(arch, StringComparer.Ordinal))
            throw new UsageException($"unknown architecture '{arch}' (known: {ArchNames})");
        ModelSpec spec = Architectures.Get(arch);
        return Model.Create(spec, WeightInitializer.Initialize(spec, ArchSeed), options);
    }

    /// <summary>The --simd values: best (default) or a level name, case-insensitive.</summary>
    public static SimdLevel ParseSimd(string? text)
    {
        if (text is null || text.Equals("best", StringComparison.OrdinalIgnoreCase)) return Simd.Best;
        if (!Enum.TryParse(text, ignoreCase: true, out SimdLevel level) || !Enum.IsDefined(level) || int.TryParse(text, out _))
            throw new UsageException($"option --simd must be one of best, {string.Join(", ", Enum.GetNames<SimdLevel>()).ToLowerInvariant()}; got '{text}'");
        if (!Simd.IsSupported(level)) throw new UsageException($"--simd {text}: {level} is not accelerated on this CPU");
        return level;
    }
}
