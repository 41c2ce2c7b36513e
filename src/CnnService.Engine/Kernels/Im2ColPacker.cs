using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnService.Engine.Kernels;

/// <summary>
/// im2col, one GEMM panel at a time ("Deep Learning from Scratch"'s im2col, packed): column j of
/// B is output position (n, y, x) of the batch, row k = (c, ki, kj) of the kernel window, and
/// B[k, j] = input[n, c, y*sh + ki, x*sw + kj]. The input is already padded, so every read is in
/// bounds. Only NR columns are ever expanded, so the expanded matrix never exists in full.
/// A 1x1 stride-1 convolution is the same walk with one row per k: a plain strided copy.
/// </summary>
internal readonly unsafe struct Im2ColPacker : IPanelPacker
{
    private readonly float* _input;
    private readonly float* _inputEnd;
    private readonly int _c, _h, _w, _kh, _kw, _sh, _sw, _oh, _ow;

    /// <param name="input">[N][C][H][W], padding already applied.</param>
    /// <param name="n">Images in the batch: bounds the reads.</param>
    public Im2ColPacker(float* input, int n, int c, int h, int w, int kh, int kw, int sh, int sw, int oh, int ow)
    {
        _input = input;
        _inputEnd = input + (nint)n * c * h * w;
        (_c, _h, _w, _kh, _kw, _sh, _sw, _oh, _ow) = (c, h, w, kh, kw, sh, sw, oh, ow);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(int j0, int count, int k0, int depth, float* panel, int nr)
    {
        // Split the panel's columns into runs within one output row: inside a run the source
        // address steps by the stride, so each kernel row k becomes a few short copies.
        int* runDst = stackalloc int[nr];
        nint* runSrc = stackalloc nint[nr];
        int* runLen = stackalloc int[nr];
        int runs = 0;
        int p = _oh * _ow;
        nint imageSize = (nint)_c * _h * _w;
        int n = j0 / p, rest = j0 - n * p, y = rest / _ow, x = rest - y * _ow;
        for (int jj = 0; jj < count;)
        {
            int len = Math.Min(count - jj, _ow - x);
            runDst[runs] = jj;
            runSrc[runs] = n * imageSize + (nint)y * _sh * _w + (nint)x * _sw;
            runLen[runs] = len;
            runs++;
            jj += len;
            x = 0;
            if (++y == _oh)
            {
                y = 0;
                n++;
            }
        }

        // Whole-vector copies read up to NR floats from each run's start; allow them when even
        // the last run at the deepest kernel offset stays inside the input (all but the batch's end).
        nint deepest = ((nint)(_c - 1) * _h + _kh - 1) * _w + _kw - 1;
        if (_sw == 1 && (nr == 32 || nr == 24) && _input + runSrc[runs - 1] + deepest + nr <= _inputEnd)
        {
            if (nr == 32 && runs <= 2 && count == nr) PackOneOrTwoRuns(panel, k0, depth, runSrc, runDst, runLen, runs);
            else PackWhole(panel, nr, count, k0, depth, runSrc, runDst, runs);
        }
        else
        {
            PackExact(panel, nr, count, k0, depth, runSrc, runDst, runLen, runs);
        }
    }

    /// <summary>
    /// The common case of <see cref="PackWhole"/> at NR = 32: a full panel made of one or two
    /// runs (at most two output rows), with the run pointers held in registers and each run
    /// copied as one vector when it fits in 16 columns. The second run's first store covers the
    /// first run's surplus.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PackOneOrTwoRuns(float* panel, int k0, int depth, nint* runSrc, int* runDst, int* runLen, int runs)
    {
        float* s0 = _input + runSrc[0], s1 = _input + runSrc[runs - 1];
        int d1 = runDst[runs - 1];
        bool wide0 = runLen[0] > 16, second = runs == 2, wide1 = second && runLen[1] > 16;
        var walk = new WindowWalk(_h, _w, _kh, _kw, k0);
        for (int kk = 0; kk < depth; kk++, walk.Next())
        {
            nint offset = walk.Offset;
            float* row = panel + (nint)kk * 32;
            Vector512.Store(Vector512.Load(s0 + offset), row);
            if (wide0) Vector512.Store(Vector512.Load(s0 + offset + 16), row + 16);
            if (second)
            {
                Vector512.Store(Vector512.Load(s1 + offset), row + d1);
                if (wide1) Vector512.Store(Vector512.Load(s1 + offset + 16), row + d1 + 16);
            }
        }
    }

    /// <summary>
    /// Copies every run as NR floats whatever its length (at NR = 32, 16 where no output row is longer;
    /// at NR = 24, the 8-float vectors that cover an output row: a run is never longer): the surplus
    /// lands on columns that a later run of the same row, or the next row, writes afterwards (the last
    /// row spills into the panel's slack row). Most runs are short (an output row of a small image), so
    /// this beats exact copies with scalar tails.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PackWhole(float* panel, int nr, int count, int k0, int depth, nint* runSrc, int* runDst, int runs)
    {
        var walk = new WindowWalk(_h, _w, _kh, _kw, k0);
        bool narrow = _ow <= 16;   // LeNet-5's 10-wide rows at NR = 32: half the stores
        for (int kk = 0; kk < depth; kk++, walk.Next())
        {
            float* src = _input + walk.Offset;
            float* row = panel + (nint)kk * nr;
            for (int r = 0; r < runs; r++)
            {
                float* from = src + runSrc[r], to = row + runDst[r];
                if (nr == 32)
                {
                    Vector512.Store(Vector512.Load(from), to);
                    if (!narrow) Vector512.Store(Vector512.Load(from + 16), to + 16);
                }
                else
                {
                    Vector256.Store(Vector256.Load(from), to);
                    if (_ow > 8) Vector256.Store(Vector256.Load(from + 8), to + 8);
                    if (_ow > 16) Vector256.Store(Vector256.Load(from + 16), to + 16);
                }
            }

            if (count < nr) new Span<float>(row + count, nr - count).Clear();
        }
    }

    /// <summary>The general walk: any stride, exact lengths, no read past a run.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PackExact(float* panel, int nr, int count, int k0, int depth, nint* runSrc, int* runDst, int* runLen, int runs)
    {
        var walk = new WindowWalk(_h, _w, _kh, _kw, k0);
        for (int kk = 0; kk < depth; kk++, walk.Next())
        {
            nint offset = walk.Offset;
            float* row = panel + (nint)kk * nr;
            for (int r = 0; r < runs; r++)
            {
                float* src = _input + runSrc[r] + offset;
                if (_sw == 1) CopyExact(src, row + runDst[r], runLen[r]);
                else CopyStrided(src, _sw, row + runDst[r], runLen[r]);
            }

            if (count < nr) new Span<float>(row + count, nr - count).Clear();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyExact(float* src, float* dst, int len)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= len - 16; i += 16) Vector512.Store(Vector512.Load(src + i), dst + i);
        }

        for (; i <= len - 8; i += 8) Vector256.Store(Vector256.Load(src + i), dst + i);
        for (; i < len; i++) dst[i] = src[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyStrided(float* src, int stride, float* dst, int len)
    {
        for (int i = 0; i < len; i++) dst[i] = src[(nint)i * stride];
    }

    /// <summary>Row k = (c, ki, kj) of the kernel window, walked in order from <c>k0</c>, as an offset into one padded image.</summary>
    private struct WindowWalk
    {
        private readonly int _h, _w, _kh, _kw;
        private int _ki, _kj;

        public WindowWalk(int h, int w, int kh, int kw, int k0)
        {
            (_h, _w, _kh, _kw) = (h, w, kh, kw);
            int c = k0 / (kh * kw), r = k0 - c * kh * kw;
            (_ki, _kj) = (r / kw, r % kw);
            Offset = ((nint)c * h + _ki) * w + _kj;
        }

        public nint Offset { get; private set; }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Next()
        {
            Offset++;
            if (++_kj < _kw) return;
            _kj = 0;
            Offset += _w - _kw;
            if (++_ki < _kh) return;
            _ki = 0;
            Offset += (nint)(_h - _kh) * _w;
        }
    }
}
