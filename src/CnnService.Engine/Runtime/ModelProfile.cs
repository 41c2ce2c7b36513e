using System.Diagnostics;
using CnnService.Engine.Layers;

namespace CnnService.Engine.Runtime;

/// <summary>
/// Where a pass's time goes, per layer (<see cref="Model.ProfileLayers"/>), indexed as <see cref="Model.Layers"/> (0 for layers
/// that run nothing: fused ReLUs and views). Seconds per pass: each layer's best and median, and the medians of the calling
/// thread's time in it (all but its waits for helpers) and of the helpers' time in its chunks. With two threads the two
/// show a layer split unevenly (one core waits for the other), or not split at all (helpers 0: a call too small to hand
/// out, or a helper that came late).
/// </summary>
public sealed record LayerProfile(double[] Best, double[] Median, double[] CallerMedian, double[] HelpersMedian);

public sealed unsafe partial class Model
{
    /// <summary>
    /// Where a forward pass's time goes: runs the plan <paramref name="repeats"/> times on <paramref name="batch"/>
    /// images, timing each step, and returns the best seconds per layer, indexed as <see cref="Layers"/> (0 for
    /// layers that run nothing: fused ReLUs and views). The batch is not split across threads here, so each
    /// layer runs as a small batch does; a layer run chunk by chunk counts the sum over its chunks.
    /// For measuring, not serving: it allocates.
    /// </summary>
    public double[] TimeLayers(ReadOnlySpan<float> input, int batch, int repeats) => TimeLayers(input, batch, repeats, out _);

    /// <summary>
    /// As above, and each layer's median over the last passes (at most <see cref="MedianSamples"/>) in
    /// <paramref name="median"/>: on a shared machine the best says what a layer can do, the medians add up to a typical pass.
    /// </summary>
    public double[] TimeLayers(ReadOnlySpan<float> input, int batch, int repeats, out double[] median)
    {
        LayerProfile profile = ProfileLayers(input, batch, repeats);
        median = profile.Median;
        return profile.Best;
    }

    /// <summary>Samples of each layer's time kept for its median: the last this many passes.</summary>
    private const int MedianSamples = 2047;

    /// <summary>
    /// As <see cref="TimeLayers(ReadOnlySpan{float}, int, int)"/>, with each layer's median besides its best, and the medians
    /// of the calling thread's and the helpers' time in it (<see cref="LayerProfile"/>).
    /// </summary>
    public LayerProfile ProfileLayers(ReadOnlySpan<float> input, int batch, int repeats)
    {
        if (input.Length != (long)batch * InputShape.Size) throw new ArgumentException($"Input has {input.Length} values; {batch} x {InputShape} needs {(long)batch * InputShape.Size}.", nameof(input));
        var index = new Dictionary<Layer, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < _runs.Length; i++) index[_runs[i]] = i;
        var output = new float[batch * OutputShape.Size];
        GraphPlan plan = PlanFor(batch); // the steps Run takes at this batch
        var times = new StepTimes(plan.Steps.Length);
        int kept = Math.Min(repeats, MedianSamples);
        var best = new double[_layers.Length];
        Array.Fill(best, double.MaxValue);
        var samples = new double[3][][]; // step, caller, helpers: per layer, the last passes
        for (int k = 0; k < samples.Length; k++) samples[k] = new double[_layers.Length][];
        Workspace ws = _workspaces.Rent();
        ws.Job.TimeChunks = true;
        try
        {
            fixed (float* src = input, dst = output)
            {
                for (int r = 0; r < repeats; r++)
                {
                    times.Clear();
                    Run(ws, src, dst, batch, Options.Threads, times);
                    for (int s = 0; s < plan.Steps.Length; s++)
                    {
                        int i = index[plan.Steps[s].Layer];
                        best[i] = Math.Min(best[i], times.Seconds[s]);
                        (samples[0][i] ??= new double[kept])[r % kept] = times.Seconds[s];
                        (samples[1][i] ??= new double[kept])[r % kept] = times.Caller[s];
                        (samples[2][i] ??= new double[kept])[r % kept] = times.Helpers[s];
                    }
                }
            }
        }
        finally
        {
            ws.Job.TimeChunks = false;
            _workspaces.Return(ws);
        }

        for (int i = 0; i < best.Length; i++) if (best[i] == double.MaxValue) best[i] = 0;
        return new LayerProfile(best, Medians(samples[0]), Medians(samples[1]), Medians(samples[2]));
    }

    /// <summary>Each layer's median sample; 0 for a layer with none.</summary>
    private static double[] Medians(double[]?[] samples)
    {
        var median = new double[samples.Length];
        for (int i = 0; i < samples.Length; i++)
        {
            if (samples[i] is not { } times) continue;
            Array.Sort(times);
            median[i] = times[times.Length / 2];
        }

        return median;
    }

    /// <summary>Whether a pass of <paramref name="batch"/> images runs layer <paramref name="index"/> (of <see cref="Layers"/>)
    /// as a step of its own: false for a ReLU fused into the layer before, a folded batchnorm, views (flatten, reshape,
    /// dropout), and, for one image, a concat whose parts are written in place.</summary>
    public bool RunsLayer(int index, int batch = 1)
    {
        Layer layer = _runs[index];
        foreach (var step in PlanFor(batch).Steps) if (ReferenceEquals(step.Layer, layer)) return true;
        return false;
    }

    /// <summary>One pass's seconds per step of the plan, summed over the step's chunks: in all, the calling thread's (all but its
    /// waits for helpers), and the helpers' in chunks (<see cref="ParallelJob.TimeChunks"/>).</summary>
    private sealed class StepTimes(int steps)
    {
        public readonly double[] Seconds = new double[steps], Caller = new double[steps], Helpers = new double[steps];

        public void Clear()
        {
            Array.Clear(Seconds);
            Array.Clear(Caller);
            Array.Clear(Helpers);
        }

        /// <summary>Runs step <paramref name="s"/>'s layer on the job and adds its times: the caller's is the step's but for
        /// its waits for helpers (a layer that runs inline is all the caller's).</summary>
        public void Run(Layer layer, ParallelJob job, int threads, int s)
        {
            job.WaitTicks = job.HelperTicks = 0;
            long started = Stopwatch.GetTimestamp();
            layer.Forward(job, threads);
            long ticks = Stopwatch.GetTimestamp() - started; // raw ticks: a TimeSpan would round a layer of 0.2 us to 100 ns
            Seconds[s] += (double)ticks / Stopwatch.Frequency;
            Caller[s] += (double)(ticks - job.WaitTicks) / Stopwatch.Frequency;
            Helpers[s] += (double)Volatile.Read(ref job.HelperTicks) / Stopwatch.Frequency;
        }
    }
}
