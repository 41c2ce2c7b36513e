using System.Diagnostics;
using CnnService.Engine.Format;
using CnnService.Engine.Layers;

namespace CnnService.Engine.Runtime;

/// <summary>
/// A plan chosen by measurement (<see cref="PlanMode.Measure"/>): each convolution that more than one lowering can run is
/// built alone as a model of one layer per candidate, at batch 1 with the model's threads, and timed; the candidates take
/// turns, round by round, so a spell of a slower host falls on all of them alike, and each keeps its best round's median.
/// The fixed choice stays unless another is more than <see cref="Margin"/> faster: a measurement within the noise should not
/// move the plan. Choices are looked up in and added to the <see cref="PlanCache"/>, keyed by CPU, SIMD level, threads and
/// the layer's shape, so a model (or any with the same layer shapes) is measured once per machine.
/// </summary>
public static class PlanMeasurement
{
    /// <summary>How much faster than the fixed choice another lowering must measure to replace it: 5 %.</summary>
    public const double Margin = 0.05;

    /// <summary>Rounds in which every candidate runs, alternating.</summary>
    private const int Rounds = 5;

    /// <summary>Each round runs a candidate for about this long (and at least once).</summary>
    private const double RoundMilliseconds = 1.0;

    /// <summary>
    /// Chooses the lowering of every convolution in <paramref name="runs"/> that more than one can run, that no fusion
    /// involves (<see cref="Conv2D.StandsAlone"/>; the fixed plan's fusions need the lowering they were planned on: a clip in
    /// pointwise tiles, an expansion run in bands, direct rows that write the next layer's padding) and that
    /// <see cref="EngineOptions.Lowerings"/> does not force, replacing the layer with one planned so where the choice is
    /// not the fixed one (in <paramref name="layers"/> too when it is the same layer). Returns the choices by layer index.
    /// <paramref name="inputOf"/> gives the input a layer is timed on, by index (null: random values).
    /// </summary>
    internal static IReadOnlyDictionary<int, LoweringChoice> Choose(Layer[] runs, Layer[] layers, bool[] fusedAway, EngineOptions options, Func<int, float[]>? inputOf = null)
    {
        var choices = new Dictionary<int, LoweringChoice>();
        PlanCache? cache = options.PlanCache;
        for (int i = 0; i < runs.Length; i++)
        {
            if (fusedAway[i] || runs[i] is not Conv2D { StandsAlone: true } conv || conv.Candidates.Count < 2 || options.Lowerings?.ContainsKey(i) == true) continue;
            string key = Key(conv, options);
            if (cache is null || !cache.TryGet(key, conv.Candidates, out LoweringChoice? choice))
            {
                choice = Measure(conv, options, inputOf?.Invoke(i));
                cache?.Add(key, choice);
            }

            choices[i] = choice;
            if (choice.Lowering == conv.Lowered) continue;
            Conv2D replanned = conv.WithLowering(choice.Lowering);
            if (ReferenceEquals(layers[i], conv)) layers[i] = replanned;
            runs[i] = replanned;
        }

        cache?.Save();
        return choices;
    }

    /// <summary>The cache key: the CPU (name, family and model, L2), SIMD level and threads, then the layer's shape.</summary>
    internal static string Key(Conv2D conv, EngineOptions options) => $"{HostCpu.Signature} | {options.Simd} | threads {options.Threads} | {conv.Signature}";

    /// <summary>Times each candidate on <paramref name="input"/> (one image; null: random values) and picks one (see the class).</summary>
    internal static LoweringChoice Measure(Conv2D conv, EngineOptions options, float[]? input = null)
    {
        IReadOnlyList<ConvLowering> candidates = conv.Candidates;
        var best = new double[candidates.Count];
        if (options.PlanTimer is { } timer)
        {
            for (int c = 0; c < candidates.Count; c++) best[c] = timer(conv, candidates[c]);
        }
        else
        {
            TimeAlone(conv, candidates, options, input ?? Random(conv.InputShape.Size), best);
        }

        var ms = new Dictionary<ConvLowering, double>(candidates.Count);
        int fastest = 0;
        for (int c = 0; c < candidates.Count; c++)
        {
            ms[candidates[c]] = best[c];
            if (best[c] < best[fastest]) fastest = c;
        }

        // Candidates[0] is the fixed choice.
        ConvLowering kept = best[0] <= best[fastest] * (1 + Margin) ? candidates[0] : candidates[fastest];
        return new LoweringChoice(kept, candidates[0], ms, FromCache: false);
    }

    /// <summary>Each candidate as a model of one layer, timed in turns: <paramref name="best"/>[c] is candidate c's best round median,
    /// ms (or its fastest warm-up call, when that was over twice another's).</summary>
    private static void TimeAlone(Conv2D conv, IReadOnlyList<ConvLowering> candidates, EngineOptions options, float[] input, double[] best)
    {
        var models = new Model[candidates.Count];
        for (int c = 0; c < candidates.Count; c++) models[c] = Alone(conv, candidates[c], options);
        var output = new float[models[0].OutputShape.Size];

        // Warm up (the first call touches fresh scratch), then size each candidate's round from its fastest warm call.
        var passes = new int[candidates.Count];
        var warm = new double[candidates.Count];
        for (int c = 0; c < candidates.Count; c++)
        {
            warm[c] = double.MaxValue;
            for (int w = 0; w < 3; w++) warm[c] = Math.Min(warm[c], Pass(models[c], input, output));
            passes[c] = Math.Clamp((int)Math.Ceiling(RoundMilliseconds / Math.Max(warm[c], 1e-3)), 1, 64);
        }

        // A candidate twice as slow as another when warm cannot win: its warm time stands, and the rounds skip it.
        double fastestWarm = warm.Min();
        for (int c = 0; c < candidates.Count; c++)
        {
            best[c] = warm[c] > 2 * fastestWarm ? warm[c] : double.MaxValue;
        }

        var times = new double[64];
        for (int round = 0; round < Rounds; round++)
        {
            for (int c = 0; c < candidates.Count; c++)
            {
                if (warm[c] > 2 * fastestWarm) continue;
                for (int p = 0; p < passes[c]; p++) times[p] = Pass(models[c], input, output);
                Array.Sort(times, 0, passes[c]);
                best[c] = Math.Min(best[c], times[passes[c] / 2]);
            }
        }
    }

    /// <summary>An image-like input of <paramref name="size"/> values: uniform in [0, 1), as pixels scaled to 1 are (seeded: loads alike).</summary>
    internal static float[] ImageLike(int size)
    {
        var random = new Random(1);
        var image = new float[size];
        for (int j = 0; j < image.Length; j++) image[j] = (float)random.NextDouble();
        return image;
    }

    /// <summary>Values uniform in [-1, 1): an input for a layer timed without a traced pass.</summary>
    private static float[] Random(int size)
    {
        float[] values = ImageLike(size);
        for (int j = 0; j < values.Length; j++) values[j] = values[j] * 2 - 1;
        return values;
    }

    private static double Pass(Model model, float[] input, float[] output)
    {
        long start = Stopwatch.GetTimestamp();
        model.Forward(input, output, 1);
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    /// <summary>The convolution alone (its fused ReLU after it), planned with <paramref name="lowering"/> and the model's threads.</summary>
    private static Model Alone(Conv2D conv, ConvLowering lowering, EngineOptions options)
    {
        LayerSpec layer = conv.Spec.AloneWithBias();
        var layers = new List<LayerSpec> { layer };
        if (conv.FusedRelu) layers.Add(new LayerSpec { Type = "relu" });
        TensorShape shape = conv.InputShape;
        var spec = new ModelSpec
        {
            Name = "plan",
            Input = new InputSpec { Channels = shape.C, Height = shape.H, Width = shape.W, Mean = new float[shape.C], Std = Enumerable.Repeat(1f, shape.C).ToArray() },
            Labels = [],
            Layers = layers,
        };

        string name = layer.Name ?? "";
        var tensors = new Dictionary<string, float[]>(StringComparer.Ordinal) { [$"{name}.weight"] = conv.CopyWeights(), [$"{name}.bias"] = conv.CopyBias() };
        return Model.Create(spec, new TensorWeights(tensors), options with { Plan = PlanMode.Fixed, Lowerings = new Dictionary<int, ConvLowering> { [0] = lowering }, PlanTimer = null });
    }
}
