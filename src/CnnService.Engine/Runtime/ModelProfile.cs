using System.Diagnostics;

namespace CnnService.Engine.Runtime;

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

    /// <summary>Samples of each layer's time kept for its median: the last this many passes.</summary>
    private const int MedianSamples = 2047;

    /// <summary>
    /// As above, and each layer's median over the last passes (at most <see cref="MedianSamples"/>) in
    /// <paramref name="median"/>: on a shared machine the best says what a layer can do, the medians add up to a typical pass.
    /// </summary>
    public double[] TimeLayers(ReadOnlySpan<float> input, int batch, int repeats, out double[] median)
    {
        if (input.Length != (long)batch * InputShape.Size) throw new ArgumentException($"Input has {input.Length} values; {batch} x {InputShape} needs {(long)batch * InputShape.Size}.", nameof(input));
        var best = new double[_layers.Length];
        Array.Fill(best, double.MaxValue);
        var index = new Dictionary<Layers.Layer, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < _runs.Length; i++) index[_runs[i]] = i;
        var output = new float[batch * OutputShape.Size];
        GraphPlan plan = PlanFor(batch); // the steps Run takes at this batch
        var stepSeconds = new double[plan.Steps.Length];
        int kept = Math.Min(repeats, MedianSamples);
        var samples = new double[_layers.Length][];
        Workspace ws = _workspaces.Rent();
        try
        {
            fixed (float* src = input, dst = output)
            {
                for (int r = 0; r < repeats; r++)
                {
                    Array.Clear(stepSeconds);
                    Run(ws, src, dst, batch, Options.Threads, stepSeconds);
                    for (int s = 0; s < stepSeconds.Length; s++)
                    {
                        int i = index[plan.Steps[s].Layer];
                        best[i] = Math.Min(best[i], stepSeconds[s]);
                        (samples[i] ??= new double[kept])[r % kept] = stepSeconds[s];
                    }
                }
            }
        }
        finally
        {
            _workspaces.Return(ws);
        }

        median = new double[best.Length];
        for (int i = 0; i < best.Length; i++)
        {
            if (best[i] == double.MaxValue) best[i] = 0;
            if (samples[i] is not { } times) continue;
            Array.Sort(times);
            median[i] = times[times.Length / 2];
        }

        return best;
    }

    /// <summary>Whether a pass of <paramref name="batch"/> images runs layer <paramref name="index"/> (of <see cref="Layers"/>)
    /// as a step of its own: false for a ReLU fused into the layer before, a folded batchnorm, views (flatten, reshape,
    /// dropout), and, for one image, a concat whose parts are written in place.</summary>
    public bool RunsLayer(int index, int batch = 1)
    {
        Layers.Layer layer = _runs[index];
        foreach (var step in PlanFor(batch).Steps) if (ReferenceEquals(step.Layer, layer)) return true;
        return false;
    }
}
