using CnnService.Engine.Format;
using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// Max and average pooling share everything but the reduction: the window geometry (stride
/// defaults to the kernel; padding must be at most half the kernel, as PyTorch requires, so every
/// window holds an input cell), "ceil_mode" and the split across threads (the batch's N*C planes, or a small batch's rows).
/// </summary>
public abstract unsafe partial class Pool2D : Layer, IParallelWork
{
    private readonly Window2D _win;
    private readonly bool _max;
    private readonly bool _fast2x2;
    private readonly PoolGeometry _geometry;
    private readonly SimdLevel _simd;

    private protected Pool2D(string type, LayerSpec spec, string where, TensorShape input, SimdLevel simd, bool max)
        : base(type, spec.Name, input, Output(spec, where, input, out Window2D win, out bool ceilMode))
    {
        _win = win;
        _max = max;
        CeilMode = ceilMode;
        // Only avgpool2d reads count_include_pad; the default (false) is what this layer always did.
        CountIncludePad = !max && new LayerAttributes(spec, where).Bool("count_include_pad", false);
        // The 2x2 kernel reads whole row pairs: not when ceil_mode adds a window over a last odd row or column.
        _fast2x2 = Pool2x2.Supports(simd)
            && win is { KH: 2, KW: 2, SH: 2, SW: 2, HasPadding: false } && 2 * win.OH <= input.H && 2 * win.OW <= input.W && win.OW >= Pool2x2.MinOutputWidth;
        _geometry = new PoolGeometry(input.H, input.W, win.KH, win.KW, win.SH, win.SW, win.Top, win.Left, win.Bottom, win.Right, win.OH, win.OW);
        _simd = simd;
    }

    /// <summary>Whether this is a max pool (else an average).</summary>
    internal bool IsMax => _max;

    /// <summary>Its window over the input plane.</summary>
    internal PoolGeometry Geometry => _geometry;

    /// <summary>Max pooling over 2x2 windows at stride 2, unpadded: what <see cref="Conv2D.TryFusePool"/> can run inside a convolution.</summary>
    internal bool IsPlainMax2x2 => _max && _win is { KH: 2, KW: 2, SH: 2, SW: 2, HasPadding: false };

    /// <summary>Whether the output size rounds up (PyTorch's and ONNX's ceil_mode), keeping a last, partial window.</summary>
    public bool CeilMode { get; }

    /// <summary>avgpool2d: whether the mean divides by the window's cells inside the padded input rather than the input.</summary>
    public bool CountIncludePad { get; }

    public override long FlopsPerImage => (long)OutputShape.Size * _win.KH * _win.KW;

    internal override void Forward(ParallelJob job, int threads)
    {
        int units = job.Batch < threads ? job.Batch * OutputShape.H : job.Batch * InputShape.C;
        job.Run(this, Parallelism.Chunks(FlopsPerImage * job.Batch * 4, units, threads), threads);
    }

    void IParallelWork.RunChunk(ParallelJob job, int chunk)
    {
        // More chunks than images: the chunks split rows (RunRows); else planes. Every chunk of a call decides alike.
        if (job.Batch < job.Chunks)
        {
            RunRows(job, chunk);
            return;
        }

        (int start, int end) = Parallelism.Range(job.Batch * InputShape.C, job.Chunks, chunk);
        int inPlane = InputShape.H * InputShape.W, outPlane = OutputShape.H * OutputShape.W;
        if (_fast2x2 && InputShape.H == 2 * OutputShape.H)
        {
            // Planes of even height stack into one tall plane: one call for the whole chunk.
            Pool2x2.Plane(_simd, job.Input + (nint)start * inPlane, job.Output + (nint)start * outPlane, InputShape.W, (end - start) * _win.OH, _win.OW, _max);
            return;
        }

        if (_fast2x2)
        {
            for (int plane = start; plane < end; plane++)
                Pool2x2.Plane(_simd, job.Input + (nint)plane * inPlane, job.Output + (nint)plane * outPlane, InputShape.W, _win.OH, _win.OW, _max);
            return;
        }

        PoolWindow.Planes(_simd, job.Input + (nint)start * inPlane, job.Output + (nint)start * outPlane, end - start, _geometry, _max, CountIncludePad,
            ThreadScratch.Get(PoolWindow.ScratchFloats(_geometry)));
    }

    /// <summary>
    /// Chunk <paramref name="chunk"/> of a batch smaller than the chunks: a band of each image's output rows over all its
    /// planes. The convolution before a pool splits a small batch by rows, so each core reads the band it wrote itself;
    /// split by planes, each core read half its planes from the other core's cache, and the helper ran ResNet-18's and
    /// GoogLeNet's first pools 30-45 % longer than the caller.
    /// </summary>
    private void RunRows(ParallelJob job, int chunk)
    {
        int c = InputShape.C, inPlane = InputShape.H * InputShape.W, outPlane = OutputShape.H * OutputShape.W, oh = OutputShape.H;
        (int start, int end) = Parallelism.Range(job.Batch * oh, job.Chunks, chunk);
        float* scratch = _fast2x2 ? null : ThreadScratch.Get(PoolWindow.ScratchFloats(_geometry));
        for (int unit = start; unit < end;)
        {
            int n = unit / oh, row0 = unit - n * oh, row1 = Math.Min(oh, row0 + end - unit);
            float* input = job.Input + (nint)n * c * inPlane, output = job.Output + (nint)n * c * outPlane;
            if (_fast2x2)
            {
                for (int plane = 0; plane < c; plane++)
                    Pool2x2.Plane(_simd, input + (nint)plane * inPlane + (nint)row0 * 2 * InputShape.W, output + (nint)plane * outPlane + (nint)row0 * _win.OW,
                        InputShape.W, row1 - row0, _win.OW, _max);
            }
            else
            {
                PoolWindow.Planes(_simd, input, output, c, row0, row1, _geometry, _max, CountIncludePad, scratch);
            }

            unit += row1 - row0;
        }
    }

    private static TensorShape Output(LayerSpec spec, string where, TensorShape input, out Window2D win, out bool ceilMode)
    {
        win = Window2D.Resolve(spec, where, input.H, input.W, defaultStrideIsKernel: true);
        if (2 * Math.Max(win.Top, win.Bottom) > win.KH || 2 * Math.Max(win.Left, win.Right) > win.KW)
            throw new ModelFormatException($"{where}: padding must be at most half the kernel.");
        ceilMode = new LayerAttributes(spec, where).Bool("ceil_mode", false);
        if (ceilMode)
            win = win with { OH = CeilOutput(input.H, win.KH, win.SH, win.Top, win.Bottom), OW = CeilOutput(input.W, win.KW, win.SW, win.Left, win.Right) };
        return new TensorShape(input.C, win.OH, win.OW);
    }

    /// <summary>
    /// PyTorch's pooling_output_shape with ceil_mode (ONNX's rule too): round the window count up, but
    /// drop a last window that would start past the input, in the bottom or right padding. With
    /// padding at most half the kernel, every window left then holds at least one input cell.
    /// </summary>
    internal static int CeilOutput(int size, int kernel, int stride, int before, int after)
    {
        int count = (size + before + after - kernel + stride - 1) / stride + 1; // Window2D made sure kernel <= padded size
        if ((long)(count - 1) * stride >= size + before) count--;
        return count;
    }
}
