using CnnService.Engine.Format;
using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

public sealed unsafe partial class GroupedConv2D
{
    // Each group's weights as DirectConv's (or DirectConv256's) tiles read them, 32 filters a tile (a group of 16 fills the first 16 lanes), its bias
    // padded to whole tiles, and the taps' offsets in a padded plane; null where the layer runs im2col.
    private readonly float[]? _direct, _directBias;
    private readonly nint[]? _directTaps;

    /// <summary>Whether <see cref="DirectConv"/>'s tiles run this layer: RegNet's groups of 16 filters, or whole tiles of 32,
    /// at stride 1 or 2 without dilation, on rows of at least a tile or of 7 taken two at a time. Per group they read the
    /// padded input in place, where im2col unrolled every group's taps and packed them again for a GEMM of 16 rows:
    /// regnet_x_400mf's grouped layers ran at 26-40 GFLOP/s that way (AMD EPYC Zen 4, one thread). With AVX2 the tiles are
    /// <see cref="DirectConv256"/>'s: those layers 1.1-1.8x faster than im2col, the network 38-48 -> 50-55 images/s on one
    /// thread (AMD EPYC Zen 3).</summary>
    public bool Direct => _direct is not null;

    private static bool DirectSuits(SimdLevel simd, int filtersPerGroup, Window2D win, Pair dilation) =>
        simd is SimdLevel.Vector512 or SimdLevel.Vector256 && (filtersPerGroup == 16 || filtersPerGroup % DirectConv.Channels == 0)
        && dilation.H == 1 && dilation.W == 1 && win.SW is 1 or 2 && (win.OW >= DirectConv.Width || DirectConv.TwoRows(win.OH, win.OW));

    /// <summary>Each group's weights and bias as <see cref="DirectConv.Pack"/> (or, with AVX2, <see cref="DirectConv256.Pack"/>) lays out tiles (padded to whole tiles of 32),
    /// one group after another.</summary>
    private (float[] Weights, float[] Bias, nint[] Taps) PackDirect(float[] weights, float[] bias, int mg, int kg)
    {
        int tiles = DirectConv.Tiles(mg), groupFloats = tiles * DirectConv.Channels * kg;
        float[] packed = GC.AllocateArray<float>(Groups * groupFloats, pinned: true);
        float[] paddedBias = GC.AllocateArray<float>(Groups * tiles * DirectConv.Channels, pinned: true);
        for (int g = 0; g < Groups; g++)
        {
            ReadOnlySpan<float> group = weights.AsSpan(g * mg * kg, mg * kg);
            (_simd == SimdLevel.Vector512 ? DirectConv.Pack(group, mg, kg) : DirectConv256.Pack(group, mg, kg)).CopyTo(packed, g * groupFloats);
            if (bias.Length > 0) DirectConv.PackBias(bias.AsSpan(g * mg, mg), mg).CopyTo(paddedBias, g * tiles * DirectConv.Channels);
        }

        return (packed, paddedBias, DirectConv.Taps(_win.KH, _win.KW, PaddedW));
    }

    private bool TwoRows => DirectConv.TwoRows(_win.OH, _win.OW);

    /// <summary>Work items per (image, group): output rows, or pairs of rows of 7.</summary>
    private int DirectRows => TwoRows ? (_win.OH + 1) / 2 : _win.OH;

    /// <summary>Items (image, group, row) of this chunk: each row of the group's filters, 14 positions a tile (the last moved back
    /// to end at OW), or two rows of 7 (an odd last row half a tile). A padded layer pads here, as <see cref="Conv2D"/>'s direct
    /// tiles do: each run of a group's rows pads the input rows they read, of the group's channels alone, into this thread's
    /// scratch. A pass over the whole input before (split by rows, while the tiles split by groups) had each core read half its
    /// groups' padded planes from the other core's cache, and on two threads these layers ran slower than on one.</summary>
    private void RunDirect(ParallelJob job, int chunk)
    {
        int rows = DirectRows, rowsPerItem = TwoRows ? 2 : 1, cg = InputShape.C / Groups, mg = OutputShape.C / Groups, ow = _win.OW, oh = _win.OH;
        int tiles = DirectConv.Tiles(mg), kg = cg * _win.KH * _win.KW, wp = PaddedW, sh = _win.SH, sw = _win.SW;
        nint positions = (nint)oh * ow;
        nint second = TwoRows ? (nint)sh * wp : 7 * sw;
        FusedActivation act = FusedRelu && !job.Unfused ? FusedActivation.Relu : FusedActivation.None;
        int TileFloats = _simd == SimdLevel.Vector512 ? 16 * DirectConv.Channels : DirectConv256.ScratchFloats;
        bool padHere = _win.HasPadding;
        float* scratch = ThreadScratch.Get(TileFloats + (padHere ? (long)cg * PaddedH * wp : 0));
        (int start, int end) = Parallelism.Range(job.Batch * Groups * rows, job.Chunks, chunk);
        fixed (float* weights = _direct, bias = _directBias)
        fixed (nint* taps = _directTaps)
        {
            for (int item = start; item < end;)
            {
                // Items [item, runEnd): rows [r0, r1) of group g of image n.
                int ng = item / rows, g = ng % Groups, n = ng / Groups, r0 = item % rows;
                int runEnd = Math.Min(end, (ng + 1) * rows), r1 = r0 + runEnd - item;
                nint plane;
                float* groupInput;
                if (padHere)
                {
                    int y0 = r0 * rowsPerItem, y1 = Math.Min(r1 * rowsPerItem, oh);
                    int bandStart = y0 * sh, bandRows = (y1 - 1 - y0) * sh + _win.KH;
                    plane = (nint)bandRows * wp;
                    groupInput = PadGroupRows(job.Input, n, g, bandStart, bandRows, scratch + TileFloats);
                }
                else
                {
                    plane = (nint)PaddedH * wp;
                    groupInput = job.Input + ((nint)n * InputShape.C + (nint)g * cg) * plane;
                }

                for (int r = r0; r < r1; r++)
                {
                    int y = r * rowsPerItem;
                    float* inRow = groupInput + (nint)y * sh * wp;
                    float* outRow = job.Output + ((nint)n * OutputShape.C + (nint)g * mg) * positions + (nint)y * ow;
                    for (int t = 0; t < tiles; t++)
                    {
                        float* w = weights + ((nint)g * tiles + t) * kg * DirectConv.Channels, b = bias + (g * tiles + t) * DirectConv.Channels;
                        float* output = outRow + (nint)t * DirectConv.Channels * positions;
                        bool one = mg - t * DirectConv.Channels == 16;
                        if (TwoRows)
                        {
                            if (y + 1 < oh) Tile<WholeTile>(one, w, b, inRow, second, taps, cg, plane, output, positions, act, scratch, sw);
                            else Tile<HalfTile>(one, w, b, inRow, second, taps, cg, plane, output, positions, act, scratch, sw);
                            continue;
                        }

                        for (int x = 0; x < ow; x += DirectConv.Width)
                        {
                            int x0 = Math.Min(x, ow - DirectConv.Width);
                            Tile<WholeTile>(one, w, b, inRow + (nint)x0 * sw, second, taps, cg, plane, output + x0, positions, act, scratch, sw);
                        }
                    }
                }

                item = runEnd;
            }
        }
    }

    private void Tile<TWidth>(bool one, float* w, float* bias, float* input, nint second, nint* taps, int channels, nint plane, float* output, nint p,
        in FusedActivation act, float* scratch, int sw) where TWidth : struct, ITileWidth
    {
        if (_simd == SimdLevel.Vector512) DirectConv.Tile<TWidth>(one, sw, w, bias, input, second, taps, _directTaps!.Length, channels, plane, output, p, act, scratch);
        else DirectConv256.Tile<TWidth>(one, sw, w, bias, input, second, taps, _directTaps!.Length, channels, plane, output, p, act, scratch);
    }
}
