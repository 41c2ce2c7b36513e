using CnnService.Engine.Runtime;
using CnnService.Engine.Training;

namespace CnnService.Engine.Layers;

public abstract partial class Pool2D
{
    internal override TrainLayer ForTraining(TrainSetup setup) => new Trainable(this);

    /// <summary>
    /// Max and average pooling for training: forward is the layer's own kernel, so every setting it runs
    /// (ceil_mode, count_include_pad) trains with the same geometry and divisor. Padding is never a value:
    /// max sends each window's gradient to the first cell that equals the window's output (the first
    /// maximum, where PyTorch routes it too), found again in backward rather than stored, and the average
    /// spreads its gradient evenly over the cells inside the input, each weighted by 1 / the divisor the
    /// forward used. Planes are split across threads.
    /// </summary>
    private sealed class Trainable(Pool2D op) : TrainLayer(op.Type, op.Name, op.InputShape, op.OutputShape), IParallelWork
    {
        private float[] _x = [], _y = [], _dy = [], _dx = [];
        private int _planes;

        public override void Forward(TrainContext ctx, float[] input, float[] output) => RunForward(op, ctx, input, output);

        public override void Backward(TrainContext ctx, float[] input, float[] output, float[] dOutput, float[]? dInput)
        {
            if (dInput is null) return;
            (_x, _y, _dy, _dx, _planes) = (input, output, dOutput, dInput, ctx.Batch * InputShape.C);
            ctx.Run(this, Parallelism.Chunks(op.FlopsPerImage * ctx.Batch * 4, _planes, ctx.Threads));
        }

        void IParallelWork.RunChunk(ParallelJob job, int chunk)
        {
            (int start, int end) = Parallelism.Range(_planes, job.Chunks, chunk);
            for (int plane = start; plane < end; plane++) BackwardPlane(plane);
        }

        private void BackwardPlane(int plane)
        {
            Window2D win = op._win;
            int h = InputShape.H, w = InputShape.W, oh = win.OH, ow = win.OW;
            ReadOnlySpan<float> dy = _dy.AsSpan(plane * oh * ow, oh * ow);
            Span<float> dx = _dx.AsSpan(plane * h * w, h * w);
            dx.Clear();
            ReadOnlySpan<float> x = _x.AsSpan(plane * h * w, h * w), y = _y.AsSpan(plane * oh * ow, oh * ow);
            if (op._max && win is { KH: 2, KW: 2, SH: 2, SW: 2, HasPadding: false } && 2 * oh <= h && 2 * ow <= w)
            {
                MaxBackward2x2(x, y, dy, dx, w, oh, ow);
                return;
            }

            for (int oy = 0; oy < oh; oy++)
            {
                int wy = oy * win.SH - win.Top;
                int y0 = Math.Max(wy, 0), y1 = Math.Min(wy + win.KH, h);
                for (int ox = 0; ox < ow; ox++)
                {
                    int wx = ox * win.SW - win.Left;
                    int x0 = Math.Max(wx, 0), x1 = Math.Min(wx + win.KW, w);
                    if (op._max)
                    {
                        dx[FirstEqual(x, w, y0, y1, x0, x1, y[oy * ow + ox])] += dy[oy * ow + ox];
                        continue;
                    }

                    // The forward's divisor (PoolWindow): the cells inside the input, or inside the padded input.
                    int divisor = op.CountIncludePad
                        ? (Math.Min(wy + win.KH, h + win.Bottom) - wy) * (Math.Min(wx + win.KW, w + win.Right) - wx)
                        : (y1 - y0) * (x1 - x0);
                    float share = dy[oy * ow + ox] / divisor;
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
    }
}
