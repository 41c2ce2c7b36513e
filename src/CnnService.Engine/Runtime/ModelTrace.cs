using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CnnService.Engine.Layers;

namespace CnnService.Engine.Runtime;

public sealed unsafe partial class Model
{
    /// <summary>
    /// Runs one image [C, H, W] through every layer and returns each layer's output, indexed as
    /// <see cref="Layers"/>: what an explain view draws. Fusion is undone here, so a conv2d's
    /// output is its pre-activation (signed) and the ReLU after it has an output of its own, and a convolution
    /// with a batchnorm folded into it runs as written, the batchnorm after it on its own.
    /// Unlike <see cref="Forward"/> this allocates its results; it is for looking, not serving.
    /// </summary>
    public float[][] Trace(ReadOnlySpan<float> input)
    {
        if (input.Length != InputShape.Size)
            throw new ArgumentException($"Input has {input.Length} values; one {InputShape} image needs {InputShape.Size}.", nameof(input));

        // Tensor 0 is the input, tensor i + 1 layer i's output; pinned, since a layer may read several at once.
        var tensors = new float[_layers.Length + 1][];
        tensors[0] = GC.AllocateArray<float>(input.Length, pinned: true);
        input.CopyTo(tensors[0]);
        long scratch = 0;
        foreach (var layer in _layers) scratch = Math.Max(scratch, layer.ScratchFloats(1));

        Workspace ws = _workspaces.Rent();
        ParallelJob job = ws.Job;
        try
        {
            float* arena = ws.Ensure(Math.Max(scratch, 1));
            if (job.Inputs.Length < _plan.MaxInputs) job.Inputs = new nint[_plan.MaxInputs];
            job.Unfused = true;
            job.WholeBatch = 0;
            for (int i = 0; i < _layers.Length; i++)
            {
                Layer layer = _layers[i];
                float[] output = tensors[i + 1] = GC.AllocateArray<float>(layer.OutputShape.Size, pinned: true);
                for (int k = 0; k < _inputs[i].Length; k++)
                    job.Inputs[k] = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(tensors[_inputs[i][k]]));
                job.Input = (float*)job.Inputs[0];
                job.Output = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(output));
                job.Batch = 1;
                job.Scratch = arena;
                layer.Forward(job, Options.Threads);
            }
        }
        finally
        {
            // The workspace goes back to the pool: the next Forward must fuse again.
            job.Unfused = false;
            _workspaces.Return(ws);
        }

        var outputs = tensors[1..];
        return outputs;
    }
}
