using CnnService.Engine.Format;
using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// Max and average pooling share everything but the reduction: the window geometry (stride
/// defaults to the kernel; padding must be at most half the kernel, as PyTorch requires) and
/// the split of the batch's N*C planes across threads.
/// </summary>
public abstract unsafe class Pool2D : Layer, IParallelWork
{
    private readonly Window2D _win;
    private readonly bool _max;
    private readonly bool _fast2x2;

    private protected Pool2D(string type, LayerSpec spec, string where, TensorShape input, SimdLevel simd, bool max)
        : base(type, spec.Name, input, Output(spec, where, input, out Window2D win))
    {
        _win = win;
        _max = max;
        _fast2x2 = simd == SimdLevel.Vector512 && Pool2x2.IsSupported
            && win is { KH: 2, KW: 2, SH: 2, SW: 2, HasPadding: false };
    }

    public override long FlopsPerImage => (long)OutputShape.Size * _win.KH * _win.KW;

    internal override void Forward(ParallelJob job, int threads)
    {
        int planes = job.Batch * InputShape.C;
        job.Run(this, Parallelism.Chunks(FlopsPerImage * job.Batch * 4, planes, threads), threads);
    }

    void IParallelWork.RunChunk(ParallelJob job, int chunk)
    {
        (int start, int end) = Parallelism.Range(job.Batch * InputShape.C, job.Chunks, chunk);
        int inPlane = InputShape.H * InputShape.W, outPlane = OutputShape.H * OutputShape.W;
        if (_fast2x2 && InputShape.H == 2 * OutputShape.H)
        {
            // Planes of even height stack into one tall plane: one call for the whole chunk.
            Pool2x2.Plane(job.Input + (nint)start * inPlane, job.Output + (nint)start * outPlane, InputShape.W, (end - start) * _win.OH, _win.OW, _max);
            return;
        }

        for (int plane = start; plane < end; plane++)
        {
            float* src = job.Input + (nint)plane * inPlane, dst = job.Output + (nint)plane * outPlane;
            if (_fast2x2) Pool2x2.Plane(src, dst, InputShape.W, _win.OH, _win.OW, _max);
            else PoolWindow.Plane(src, dst, InputShape.H, InputShape.W, _win.KH, _win.KW, _win.SH, _win.SW, _win.Top, _win.Left, _win.OH, _win.OW, _max);
        }
    }

    private static TensorShape Output(LayerSpec spec, string where, TensorShape input, out Window2D win)
    {
        win = Window2D.Resolve(spec, where, input.H, input.W, defaultStrideIsKernel: true);
        if (2 * Math.Max(win.Top, win.Bottom) > win.KH || 2 * Math.Max(win.Left, win.Right) > win.KW)
            throw new ModelFormatException($"{where}: padding must be at most half the kernel.");
        return new TensorShape(input.C, win.OH, win.OW);
    }
}
