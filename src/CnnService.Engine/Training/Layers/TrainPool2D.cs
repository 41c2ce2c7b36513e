using CnnService.Engine.Format;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Training.Layers;

/// <summary>
/// Max and average pooling for training. Padding is never a value, as at inference: max
/// remembers which input cell won each window (the gradient goes there alone, as PyTorch routes
/// it: the first maximum), and the average spreads its gradient evenly over the window's cells
/// inside the input. Planes are split across threads.
/// </summary>
internal sealed class TrainPool2D : TrainLayer, IParallelWork
{
    private readonly Window2D _win;
    private readonly bool _max;

    /// <summary>For each output of the batch, the index in its input plane of the maximum (max pooling only).</summary>
    private readonly int[] _argmax;

    private float[] _x = [], _y = [], _dy = [], _dx = [];
    private bool _backward;
    private int _planes;

    public TrainPool2D(LayerSpec spec, string where, TensorShape input, int maxBatch)
        : base(spec.Type, spec.Name, input, Output(spec, where, input, out Window2D win))
    {
        _win = win;
        _max = spec.Type == "maxpool2d";
        _argmax = _max ? new int[maxBatch * OutputShape.Size] : [];
    }

    public override void Forward(TrainContext ctx, float[] input, float[] output)
    {
        (_x, _y, _backward, _planes) = (input, output, false, ctx.Batch * InputShape.C);
        ctx.Run(this, Parallelism.Chunks((long)ctx.Batch * OutputShape.Size * _win.KH * _win.KW * 4, _planes, ctx.Threads));
    }

    public override void Backward(TrainContext ctx, float[] input, float[] output, float[] dOutput, float[]? dInput)
    {
        if (dInput is null) return;
        (_dy, _dx, _backward, _planes) = (dOutput, dInput, true, ctx.Batch * InputShape.C);
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
        ReadOnlySpan<float> x = _x.AsSpan(plane * h * w, h * w);
        Span<float> y = _y.AsSpan(plane * oh * ow, oh * ow);
        Span<int> argmax = _max ? _argmax.AsSpan(plane * oh * ow, oh * ow) : default;
        for (int oy = 0; oy < oh; oy++)
        {
            (int y0, int y1) = Rows(oy);
            for (int ox = 0; ox < ow; ox++)
            {
                (int x0, int x1) = Columns(ox);
                if (_max)
                {
                    int best = y0 * w + x0;
                    for (int yy = y0; yy < y1; yy++)
                        for (int xx = x0; xx < x1; xx++)
                            if (x[yy * w + xx] > x[best]) best = yy * w + xx;
                    argmax[oy * ow + ox] = best;
                    y[oy * ow + ox] = x[best];
                }
                else
                {
                    float sum = 0;
                    for (int yy = y0; yy < y1; yy++)
                        for (int xx = x0; xx < x1; xx++) sum += x[yy * w + xx];
                    y[oy * ow + ox] = sum / ((y1 - y0) * (x1 - x0));
                }
            }
        }
    }

    private void BackwardPlane(int plane)
    {
        int h = InputShape.H, w = InputShape.W, oh = _win.OH, ow = _win.OW;
        ReadOnlySpan<float> dy = _dy.AsSpan(plane * oh * ow, oh * ow);
        Span<float> dx = _dx.AsSpan(plane * h * w, h * w);
        dx.Clear();
        if (_max)
        {
            ReadOnlySpan<int> argmax = _argmax.AsSpan(plane * oh * ow, oh * ow);
            for (int i = 0; i < dy.Length; i++) dx[argmax[i]] += dy[i];
            return;
        }

        for (int oy = 0; oy < oh; oy++)
        {
            (int y0, int y1) = Rows(oy);
            for (int ox = 0; ox < ow; ox++)
            {
                (int x0, int x1) = Columns(ox);
                float share = dy[oy * ow + ox] / ((y1 - y0) * (x1 - x0));
                for (int yy = y0; yy < y1; yy++)
                    for (int xx = x0; xx < x1; xx++) dx[yy * w + xx] += share;
            }
        }
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
        win = Window2D.Resolve(spec, where, input.H, input.W, defaultStrideIsKernel: true);
        return new TensorShape(input.C, win.OH, win.OW);
    }
}
