using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// The mean of each channel's H x W plane: [C, H, W] to [C, 1, 1]. A pure read of the input, so it
/// should run at memory speed: planes are split across threads and each is summed with
/// <see cref="PlaneSum"/> (EfficientNet runs one in every squeeze-and-excite block).
/// </summary>
public sealed unsafe partial class GlobalAvgPool : Layer, IParallelWork
{
    private readonly SimdLevel _simd;

    internal GlobalAvgPool(string? name, TensorShape input, SimdLevel simd)
        : base("global_avgpool", name, input, new TensorShape(input.C, 1, 1))
    {
        _simd = simd;
    }

    public override long FlopsPerImage => InputShape.Size;

    internal override void Forward(ParallelJob job, int threads) =>
        job.Run(this, Parallelism.Chunks((long)job.Batch * InputShape.Size, job.Batch * InputShape.C, threads), threads);

    void IParallelWork.RunChunk(ParallelJob job, int chunk)
    {
        int plane = InputShape.H * InputShape.W;
        (int start, int end) = Parallelism.Range(job.Batch * InputShape.C, job.Chunks, chunk);
        for (int i = start; i < end; i++) job.Output[i] = PlaneSum.Sum(_simd, job.Input + (nint)i * plane, plane) / plane;
    }
}
