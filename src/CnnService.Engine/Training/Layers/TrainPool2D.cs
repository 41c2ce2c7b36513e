using CnnService.Engine.Format;
using CnnService.Engine.Kernels;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Training.Layers;

/// <summary>
/// Max and average pooling for training. The forward pass is the inference kernel's. Padding is
/// never a value, as at inference: max sends each window's gradient to the first cell that
/// equals the window's output (the first maximum, where PyTorch routes it too), found again in
/// backward rather than stored, and the average spreads its gradient evenly over the window's
/// cells inside the input. Planes are split across threads.
/// </summary>
internal sealed unsafe class TrainPool2D : TrainLayer, IParallelWork
{
    private readonly Window2D _win;
    private readonly bool _max;
    private readonly bool _fast2x2;

    private float[] _x = [], _y = [], _dy = [], _dx = [];
    private bool _backward;
    private int _planes;

    public TrainPool2D(LayerSpec spec, string where, TensorShape input)
        : base(spec.Type, spec.Name, input, Output(spec, where, input, out Window2D win))
    {
        _win = win;
        _max = spec.Type == "maxpool2d";
        _fast2x2 = Pool2x2.IsSupported && win is { KH: 2, KW: 2, SH: 2, SW: 2, HasPadding: false };
    }

    public override void Forward(TrainContext ctx, float[] input, float[] output)
    {
        (_x, _y, _backward, _planes) = (input, output, false, ctx.Batch * InputShape.C);
        ctx.Run(this, Parallelism.Chunks((long)ctx.Batch * OutputShape.Size * _win.KH * _win.KW * 4, _planes, ctx.Threads));
    }

    public override void Backward(TrainContext ctx, float[] input, float[] output, float[] dOutput, float[]? dInput)
    {
        if (dInput is null) return;
        (_x, _y, _dy, _dx, _backward, _planes) = (input, output, dOutput, dInput, true, ctx.Batch * InputShape.C);
        ctx.Run(this, Parallelism.Chunks((long)ctx.Batch * OutputShape.Size * _win.KH * _win.KW * 4, _planes, ctx.Threads));
    }

    void IParallelWork.RunChunk(ParallelJob job, int chunk)
    {
        (int start, int end) = Parallelism.Range(_planes, job.Chunks, chunk);
        for (int plane = start; plane < end; plane++)
        {
            if (_backward) BackwardPlane(plane);
            else ForwardPlane(plane);
        }
    }

    private void ForwardPlane(int plane)
    {
        int h = InputShape.H, w = InputShape.W, oh = _win.OH, ow = _win.OW;
        fixed (float* x = &_x[plane * h * w], y = &_y[plane * oh * ow])
        {
            if (_fast2x2) Pool2x2.Plane(x, y, w, oh, ow, _max);
            else PoolWindow.Plane(x, y, h, w, _win.KH, _win.KW, _win.SH, _win.SW, _win.Top, _win.Left, _win.Bottom, _win.Right, oh, ow, _max, includePad: false);
        }
    }

    private void BackwardPlane(int plane)
    {
        int h = InputShape.H, w = InputShape.W, oh = _win.OH, ow = _win.OW;
        ReadOnlySpan<float> dy = _dy.AsSpan(plane * oh * ow, oh * ow);
        Span<float> dx = _dx.AsSpan(plane * h * w, h * w);
        dx.Clear();
        ReadOnlySpan<float> x = _x.AsSpan(plane * h * w, h * w), y = _y.AsSpan(plane * oh * ow, oh * ow);
        if (_max && _win is { KH: 2, KW: 2, SH: 2, SW: 2, HasPadding: false })
        {
            MaxBackward2x2(x, y, dy, dx, w, oh, ow);
            return;
        }

        for (int oy = 0; oy < oh; oy++)
        {
            (int y0, int y1) = Rows(oy);
            for (int ox = 0; ox < ow; ox++)
            {
                (int x0, int x1) = Columns(ox);
                if (_max)
                {
                    dx[FirstEqual(x, w, y0, y1, x0, x1, y[oy * ow + ox])] += dy[oy * ow + ox];
                    continue;
                }

                float share = dy[oy * ow + ox] / ((y1 - y0) * (x1 - x0));
                for (int yy = y0; yy < y1; yy++)
                    for (int xx = x0; xx < x1; xx++) dx[yy * w + xx] += share;
            }
        }
    }

    /// <summary>The common 2x2 stride-2 max pool: each gradient goes to the first of its four cells that holds the maximum.</summary>
    private static void MaxBackward2x2(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int w, int oh, int ow)
    {
        for (int oy = 0; oy < oh; oy++)
        {
            int top = 2 * oy * w;
            for (int ox = 0; ox < ow; ox++)
            {
                int i = top + 2 * ox, o = oy * ow + ox;
                float max = y[o];
                int at = x[i] == max ? i : x[i + 1] == max ? i + 1 : x[i + w] == max ? i + w : i + w + 1;
                dx[at] = dy[o];
            }
        }
    }

    /// <summary>The index of the first cell of the window equal to its maximum (a NaN window routes to its first cell).</summary>
    private static int FirstEqual(ReadOnlySpan<float> x, int w, int y0, int y1, int x0, int x1, float max)
    {
        for (int yy = y0; yy < y1; yy++)
            for (int xx = x0; xx < x1; xx++)
                if (x[yy * w + xx] == max) return yy * w + xx;
        return y0 * w + x0;
    }

    /// <summary>The input rows [y0, y1) of output row <paramref name="oy"/>'s window, clipped to the input.</summary>
    private (int, int) Rows(int oy)
    {
        int y0 = oy * _win.SH - _win.Top;
        return (Math.Max(y0, 0), Math.Min(y0 + _win.KH, InputShape.H));
    }

    private (int, int) Columns(int ox)
    {
        int x0 = ox * _win.SW - _win.Left;
        return (Math.Max(x0, 0), Math.Min(x0 + _win.KW, InputShape.W));
    }

    private static TensorShape Output(LayerSpec spec, string where, TensorShape input, out Window2D win)
    {
        // Inference-only settings: refused here rather than trained with another geometry or divisor than the model runs.
        var attributes = new LayerAttributes(spec, where);
        if (attributes.Bool("ceil_mode", false))
            throw new ModelFormatException($"{where}: {spec.Type} with \"ceil_mode\": true cannot be trained yet.");
        if (spec.Type == "avgpool2d" && attributes.Bool("count_include_pad", false))
            throw new ModelFormatException($"{where}: avgpool2d with \"count_include_pad\": true cannot be trained yet.");
        win = Window2D.Resolve(spec, where, input.H, input.W, defaultStrideIsKernel: true);
        return new TensorShape(input.C, win.OH, win.OW);
    }
}
