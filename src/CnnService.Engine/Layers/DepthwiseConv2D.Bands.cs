using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

public sealed unsafe partial class DepthwiseConv2D
{
    /// <summary>Floats of a band of the expansion's output at most: half the L2 (<see cref="BatchChunking.BudgetBytes"/>), which
    /// then holds the band between the expansion's stores and this layer's reads. Against bands of an eighth, a quarter and
    /// all of a 1 MB L2, at batch 1 on one thread (AMD EPYC Zen 5): EfficientNet-B0's first three stages 9.5, 4 and 1 % faster,
    /// MobileNet V2 0.1-0.8 %.</summary>
    private static long BandFloats => BatchChunking.BudgetBytes / sizeof(float);

    private Conv2D? _expansion;
    private int _bandRows;
    private long _bandScratchFloats; // per thread: the band, the expansion's tiles, the kernel's scratch for the largest band

    /// <summary>The weights as <see cref="DepthwiseBlocked"/> reads them where it takes this layer's bands (a band of a map too
    /// large for it whole): this layer's own blocked weights, or packed for the bands; else null.</summary>
    private float[]? _bandBlocked;

    /// <summary>
    /// The 1x1 expansion before this layer, set by the plan when its output is large (MobileNet's and EfficientNet's 96 x
    /// 112x112 map, 4.8 MB an image): this layer runs it, a band of output rows at a time, into the thread's scratch and
    /// convolves the band from there, so that map is never written out nor read back. Else null. A band small enough
    /// goes through <see cref="DepthwiseBlocked"/>, as a small map would, where the whole map would not.
    /// </summary>
    public Conv2D? Expansion => _expansion;

    /// <summary>Whether <paramref name="conv"/>, whose output only this layer reads, can run inside it a band at a time.</summary>
    internal bool CanTakeExpansion(Conv2D conv) =>
        _expansion is null && _multiplier == 1 && conv.CanRunInBands && conv.OutputShape == InputShape;

    /// <summary>Called once by the model's plan, before the model is shared: the expansion runs nothing on its own.</summary>
    internal void TakeExpansion(Conv2D conv)
    {
        if (!CanTakeExpansion(conv)) throw new InvalidOperationException($"{Name} cannot run {conv.Name} in bands.");
        _expansion = conv;
        DepthwiseGeometry g = _geometry;
        long rowFloats = (long)InputShape.C * g.W;
        int inRows = (int)Math.Max(g.KH, BandFloats / rowFloats);
        _bandRows = Math.Clamp((inRows - g.KH) / g.SH + 1, 1, g.OH);
        var full = new DepthwiseGeometry((_bandRows - 1) * g.SH + g.KH, g.W, g.KH, g.KW, g.SH, g.SW, g.Top, g.Left, _bandRows, g.OW);
        _bandBlocked = _blocked ?? (DepthwiseConv.IsBlocked(_simd, full, InputShape.C, 1) ? DepthwiseBlocked.Pack(_simd, _weights, InputShape.C, g.KH * g.KW) : null);
        long kernel = _bandBlocked is null ? DepthwiseConv.ScratchFloats(full) : DepthwiseBlocked.ScratchFloats(_simd, full);
        _bandScratchFloats = InputShape.C * BandPlane + Conv2D.RowsScratchFloats + kernel;
    }

    /// <summary>The geometry of output rows [<paramref name="oy0"/>, <paramref name="oy1"/>) as a plane of their own, reading
    /// input rows from <paramref name="r0"/>: the map's padding above only if they start at its top, below only if they end at its bottom.</summary>
    private DepthwiseGeometry BandOf(int oy0, int oy1, out int r0)
    {
        DepthwiseGeometry g = _geometry;
        int start = oy0 * g.SH - g.Top, end = (oy1 - 1) * g.SH - g.Top + g.KH;
        r0 = Math.Max(0, start);
        int r1 = Math.Min(g.H, end);
        return new DepthwiseGeometry(r1 - r0, g.W, g.KH, g.KW, g.SH, g.SW, r0 - start, g.Left, oy1 - oy0, g.OW);
    }

    /// <summary>Whether a call runs the expansion and this layer in bands: in a pass, not in a trace (which runs each layer alone).</summary>
    private bool InBands(ParallelJob job) => _expansion is not null && !job.Unfused;

    private int Bands => (_geometry.OH + _bandRows - 1) / _bandRows;

    /// <summary>Floats between two channels of the band buffer: the rows a whole band reads.</summary>
    private nint BandPlane => (nint)((_bandRows - 1) * _geometry.SH + _geometry.KH) * _geometry.W;

    private void ForwardBands(ParallelJob job, int threads)
    {
        long work = (FlopsPerImage * CostPerFlop + _expansion!.FlopsPerImage) * job.Batch;
        job.Run(this, Parallelism.Chunks(work, job.Batch * Bands, threads), threads);
    }

    /// <summary>Bands [first, last) of the batch (band u is image u / bands, output rows from (u % bands) * band rows): the
    /// expansion's rows they read into scratch, then this layer over them, as a plane of a geometry of its own (the map's
    /// padding above the first band and below the last). Rows the band before read too (KH - SH) move to the top of the
    /// buffer rather than being computed again.</summary>
    private void RunBands(ParallelJob job, int chunk)
    {
        DepthwiseGeometry g = _geometry;
        int c = InputShape.C, bands = Bands, w = g.W;
        nint outPlane = (nint)g.OH * g.OW, rowsPlane = BandPlane;
        (int first, int last) = Parallelism.Range(job.Batch * bands, job.Chunks, chunk);
        float* rows = ThreadScratch.Get(_bandScratchFloats); // asked for once: a larger request would move the rows held
        float* tiles = rows + c * rowsPlane, scratch = tiles + Conv2D.RowsScratchFloats;
        int heldImage = -1, held0 = 0, held1 = 0; // the image and expansion rows the buffer holds
        for (int u = first; u < last; u++)
        {
            int n = u / bands, oy0 = u % bands * _bandRows, oy1 = Math.Min(g.OH, oy0 + _bandRows);
            DepthwiseGeometry band = BandOf(oy0, oy1, out int r0);
            int r1 = r0 + band.H;

            int from = r0;
            if (heldImage == n && r0 >= held0 && r0 < held1)
            {
                int kept = held1 - r0;
                for (int ch = 0; ch < c; ch++)
                {
                    float* plane = rows + ch * rowsPlane;
                    new ReadOnlySpan<float>(plane + (nint)(r0 - held0) * w, kept * w).CopyTo(new Span<float>(plane, kept * w));
                }

                from = held1;
            }

            if (from < r1) _expansion!.RunRows(job.Input + (nint)n * _expansion.InputShape.Size, from, r1, rows + (nint)(from - r0) * w, rowsPlane, tiles);
            (heldImage, held0, held1) = (n, r0, r1);

            float* output = job.Output + n * c * outPlane + (nint)oy0 * g.OW;
            fixed (float* weights = _weights, bias = _bias, packed = _bandBlocked)
            {
                if (packed != null)
                    DepthwiseBlocked.Groups(_simd, rows, rowsPlane, packed, bias, output, outPlane, 0, c / DepthwiseBlocked.Lanes(_simd), c / DepthwiseBlocked.Lanes(_simd), _pre, _post, band, scratch);
                else
                    DepthwiseConv.Planes(_simd, rows, rowsPlane, weights, bias, 1, output, outPlane, 0, c, c, _pre, _post, band, scratch);
            }
        }
    }
}
