namespace CnnService.Engine.Runtime;

public sealed unsafe partial class Model
{
    /// <summary>
    /// Runs one image [C, H, W] through every layer and returns each layer's output, indexed as
    /// <see cref="Layers"/>: what an explain view draws. Fusion is undone here, so a conv2d's
    /// output is its pre-activation (signed) and the ReLU after it has an output of its own.
    /// Unlike <see cref="Forward"/> this allocates its results; it is for looking, not serving.
    /// </summary>
    public float[][] Trace(ReadOnlySpan<float> input)
    {
        if (input.Length != InputShape.Size)
            throw new ArgumentException($"Input has {input.Length} values; one {InputShape} image needs {InputShape.Size}.", nameof(input));

        var outputs = new float[_layers.Length][];
        float[] current = input.ToArray();
        long scratch = 0;
        foreach (var layer in _layers) scratch = Math.Max(scratch, layer.ScratchFloats(1));

        Workspace ws = _workspaces.Rent();
        ParallelJob job = ws.Job;
        try
        {
            float* arena = ws.Ensure(Math.Max(scratch, 1));
            job.Unfused = true;
            for (int i = 0; i < _layers.Length; i++)
            {
                var layer = _layers[i];
                float[] output = layer.InPlace ? (float[])current.Clone() : new float[layer.OutputShape.Size];
                fixed (float* src = current, dst = output)
                {
                    job.Input = layer.InPlace ? dst : src;
                    job.Output = dst;
                    job.Batch = 1;
                    job.Scratch = arena;
                    layer.Forward(job, Options.Threads);
                }

                outputs[i] = current = output;
            }
        }
        finally
        {
            // The workspace goes back to the pool: the next Forward must fuse again.
            job.Unfused = false;
            _workspaces.Return(ws);
        }

        return outputs;
    }
}
