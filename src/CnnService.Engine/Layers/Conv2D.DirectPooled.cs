using System.Runtime.Intrinsics.X86;
using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

public sealed unsafe partial class Conv2D
{
    /// <summary>The 3x3 stride-2 max pool that reads this layer's output, run on the direct rows as they are made; null when none is.</summary>
    private DirectPoolStep? _directPool;

    /// <summary>
    /// Plans the 3x3 stride-2 max pool <paramref name="pool"/> (ResNet's, SqueezeNet's and GoogLeNet's stem pool), the only reader of
    /// this layer's output, to run inside it when this layer runs one row of direct tiles at a time on AVX-512: each chunk computes
    /// the rows its pooled rows read into three rows of scratch, all filters, and pools them there. The full map (3.2 MB in
    /// ResNet-18, 3.1 in SqueezeNet) is never written to memory nor read back: squeezenet1_1 at batch 1 0.6-1.2 % faster on
    /// one thread and 1-2 % on two, resnet18 about 1 % on two (paired in one process, the same bits; AMD Zen 5). The parts of a
    /// concat that such a pool reads pool their own channels the same way (<see cref="Model"/>'s PoolConcatParts). Returns whether it does.
    /// </summary>
    private bool TryFuseDirectPool(Pool2D pool)
    {
        if (!CanPoolRows(pool)) return false;
        _directPool = new DirectPoolStep(this, pool.Geometry, new TensorShape(OutputShape.C, pool.OutputShape.H, pool.OutputShape.W));
        return true;
    }

    /// <summary>Whether <see cref="TryFusePool"/> would run <paramref name="pool"/> on this layer's direct rows: a 3x3 stride-2 max pool
    /// over this layer's map (or over a concat of it with others of the same size), one row of tiles at a time, AVX-512.</summary>
    internal bool CanPoolRows(Pool2D pool) =>
        _directWeights is not null && OutputShape.C % DirectConv.Channels == 0 && !_directTwoRows && !_directSplitRow && !_directSplitFilters && !_directWeightsOuter
        && _simd == SimdLevel.Vector512 && Avx512F.IsSupported && Avx512DQ.IsSupported && pool.IsMax && PoolWindow.IsMax3x3Stride2(pool.Geometry) && pool.Geometry.SH == 2
        && pool.InputShape.H == OutputShape.H && pool.InputShape.W == OutputShape.W
        && _pooled is null && _directPool is null && _writesPaddedFor is null && !InputArrivesPadded;

    /// <summary>
    /// Work items are pooled rows of each image. A chunk of pooled rows [p0, p1) computes the convolution rows their windows
    /// read, in order, into a ring of three rows ([filter][column] each), pooling each pooled row once its last window row
    /// is made: a chunk boundary recomputes at most one shared row. The rows' input is padded per chunk, as
    /// <see cref="RunDirect"/> does, and the same tiles and pool kernel give the same bits as the two layers one by one.
    /// </summary>
    private sealed class DirectPoolStep(Conv2D conv, PoolGeometry pool, TensorShape pooled) : IParallelWork
    {
        /// <summary>The pooled output shape: what the layer writes per image.</summary>
        public TensorShape Pooled { get; } = pooled;

        public void RunChunk(ParallelJob job, int chunk)
        {
            (int start, int end) = Parallelism.Range(job.Batch * Pooled.H, job.Chunks, chunk);
            Window2D win = conv._win;
            TensorShape inShape = conv.InputShape;
            int m = conv.OutputShape.C, k = conv._weights.K, oh = win.OH, ow = win.OW, wp = conv.PaddedW, sh = win.SH, ph = Pooled.H, pw = Pooled.W;
            FusedActivation act = conv.TileActivation(job);
            bool padHere = conv.MustPad(job);
            nint rowFloats = (nint)m * ow, outPlane = (nint)ph * pw;
            const int TileFloats = 16 * DirectConv.Channels;
            int maxRows = Math.Min(oh, 2 * (end - start) + 1);
            long bandFloats = padHere ? (long)inShape.C * ((maxRows - 1) * sh + win.KH) * wp : 0;
            float* scratch = ThreadScratch.Get(TileFloats + bandFloats + 3 * rowFloats + ow);
            float* band = scratch + TileFloats, ring = band + bandFloats, poolRow = ring + 3 * rowFloats;
            fixed (float* weights = conv._directWeights, bias = conv._weights.Bias)
            fixed (nint* taps = conv._directTaps)
            {
                for (int unit = start; unit < end;)
                {
                    // Pooled rows [p0, p1) of image n read convolution rows [y0, y1).
                    int n = unit / ph, p0 = unit - n * ph, p1 = Math.Min(ph, p0 + end - unit);
                    int y0 = PoolWindow.WindowRows(pool, p0).First;
                    (int lastFirst, int lastCount) = PoolWindow.WindowRows(pool, p1 - 1);
                    int y1 = lastFirst + lastCount;
                    nint plane;
                    float* input;
                    if (padHere)
                    {
                        int bandStart = y0 * sh, bandRows = (y1 - 1 - y0) * sh + win.KH;
                        plane = (nint)bandRows * wp;
                        Pad.Band(job.Input + (nint)n * inShape.Size, band, plane, inShape.C, inShape.H, inShape.W, win.Top, win.Bottom, win.Left, win.Right, conv._reflect, bandStart, bandStart + bandRows);
                        input = band - (nint)bandStart * wp;
                    }
                    else
                    {
                        plane = (nint)conv.PaddedH * wp;
                        input = job.Input + n * inShape.C * plane;
                    }

                    float* image = job.Output + (nint)n * m * outPlane;
                    int made = y0; // the next convolution row to make
                    for (int py = p0; py < p1; py++)
                    {
                        (int first, int count) = PoolWindow.WindowRows(pool, py);
                        for (; made < first + count; made++)
                        {
                            float* row = ring + made % 3 * rowFloats, inRow = input + (nint)made * sh * wp;
                            for (int c0 = 0; c0 < m; c0 += DirectConv.Channels)
                                conv.DirectRow(false, weights + (nint)c0 * k, bias + c0, inRow, 7 * win.SW, taps, inShape.C, plane, row + c0 * ow, ow, act, scratch);
                        }

                        float* r0 = ring + first % 3 * rowFloats;
                        float* r1 = count > 1 ? ring + (first + 1) % 3 * rowFloats : r0;
                        float* r2 = count > 2 ? ring + (first + 2) % 3 * rowFloats : r1;
                        for (int c = 0; c < m; c++)
                        {
                            // The row's last vector may run on into this plane's rows this chunk writes next, not further.
                            PoolWindow.Max3x3Stride2Row(r0 + c * ow, r1 + c * ow, r2 + c * ow, pool, image + c * outPlane + (nint)py * pw, (p1 - py) * pw, poolRow);
                        }
                    }

                    unit += p1 - p0;
                }
            }
        }
    }
}
