using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;
using CnnService.Engine.Training;

namespace CnnService.Engine.Layers;

public sealed partial class Conv2D
{
    internal override TrainLayer ForTraining(TrainSetup setup) => new Trainable(this, setup);

    /// <summary>
    /// Convolution for training, with the layer's geometry, image by image through explicit im2col and the
    /// SIMD GEMM over weights that change every step: forward y = W * col(x) + b; backward dW += dy * col(x)^T,
    /// db += row sums of dy, d col = W^T * dy folded back by col2im (and through the padding). The batch is split
    /// into one run of images per thread; each run sums its own partial weight gradient and the runs are
    /// added in order, so a given thread count always gives the same bits.
    /// </summary>
    private sealed unsafe class Trainable : TrainLayer, IParallelWork
    {
        private readonly Window2D _win;
        private readonly bool _reflect;
        private readonly Parameter _weight;
        private readonly Parameter? _bias;
        private readonly int _m, _k, _p, _hp, _wp;

        /// <summary>Padded input of the whole batch, kept from forward for backward (empty without padding).</summary>
        private readonly float[] _padded;
        private readonly Chunk[] _chunks;

        // The call in progress (RunChunk reads them).
        private float[] _x = [], _y = [], _dy = [];
        private float[]? _dx;
        private bool _backward;
        private int _batch;
        private SimdLevel _simd;

        public Trainable(Conv2D conv, TrainSetup setup)
            : base("conv2d", conv.Name, conv.InputShape, conv.OutputShape)
        {
            TensorShape input = conv.InputShape;
            Window2D win = _win = conv._win;
            _reflect = conv._reflect;
            FusedRelu = conv.FusedRelu;
            _m = OutputShape.C;
            _k = input.C * win.KH * win.KW;
            _p = win.OH * win.OW;
            _hp = input.H + win.Top + win.Bottom;
            _wp = input.W + win.Left + win.Right;
            _weight = new Parameter($"{Name}.weight", [_m, input.C, win.KH, win.KW], setup.Weights.Take($"{Name}.weight", _m, input.C, win.KH, win.KW));
            _bias = conv._hasBias ? new Parameter($"{Name}.bias", [_m], setup.Weights.Take($"{Name}.bias", _m)) : null;
            Parameters = _bias is null ? [_weight] : [_weight, _bias];
            _padded = win.HasPadding ? GC.AllocateArray<float>(setup.MaxBatch * input.C * _hp * _wp, pinned: true) : [];
            _chunks = new Chunk[Math.Max(1, setup.Threads)];
            // Enough for each of the three GEMMs (M x K over P, K x P over M, M x P over K) at the widest panel.
            long scratch = Sgemm.ScratchFloats(SimdLevel.Vector512, Math.Max(_m, _k), Math.Max(_k, Math.Max(_m, _p)));
            for (int i = 0; i < _chunks.Length; i++) _chunks[i] = new Chunk(_k * _p, input.C * _hp * _wp, _m * _k, _m, scratch);
        }

        public override IReadOnlyList<Parameter> Parameters { get; }

        /// <summary>The ReLU after this layer runs in its GEMM's store, and its gradient masks dy here: two passes over the activations saved.</summary>
        public bool FusedRelu { get; }

        public override void Forward(TrainContext ctx, float[] input, float[] output)
        {
            Start(ctx, input, output, [], null, backward: false);
        }

        public override void Backward(TrainContext ctx, float[] input, float[] output, float[] dOutput, float[]? dInput)
        {
            int count = ctx.Batch * OutputShape.Size;
            if (FusedRelu) ReluGradient.Apply(output.AsSpan(0, count), dOutput.AsSpan(0, count), dOutput.AsSpan(0, count));
            int chunks = Start(ctx, input, output, dOutput, dInput, backward: true);

            // Partial gradients added in chunk order: deterministic for a given thread count.
            _chunks[0].DW.AsSpan().CopyTo(_weight.Grad);
            if (_bias is not null) _chunks[0].DB.AsSpan().CopyTo(_bias.Grad);
            for (int c = 1; c < chunks; c++)
            {
                Add(_chunks[c].DW, _weight.Grad);
                if (_bias is not null) Add(_chunks[c].DB, _bias.Grad);
            }
        }

        private int Start(TrainContext ctx, float[] x, float[] y, float[] dy, float[]? dx, bool backward)
        {
            (_x, _y, _dy, _dx, _backward, _batch, _simd) = (x, y, dy, dx, backward, ctx.Batch, ctx.Simd);
            int chunks = Math.Min(_chunks.Length, ctx.Batch);
            ctx.Run(this, chunks);
            return chunks;
        }

        void IParallelWork.RunChunk(ParallelJob job, int chunk)
        {
            (int start, int end) = Parallelism.Range(_batch, job.Chunks, chunk);
            Chunk buffers = _chunks[chunk];
            if (_backward) BackwardImages(start, end, buffers);
            else ForwardImages(start, end, buffers);
        }

        private void ForwardImages(int start, int end, Chunk buffers)
        {
            int c = InputShape.C, inSize = InputShape.Size, padSize = c * _hp * _wp;
            fixed (float* x = _x, y = _y, padded = _padded, col = buffers.Col, w = _weight.Value, b = _bias is null ? null : _bias.Value, scratch = buffers.Scratch)
            {
                for (int n = start; n < end; n++)
                {
                    float* image = x + (nint)n * inSize;
                    if (_win.HasPadding)
                    {
                        float* dst = padded + (nint)n * padSize;
                        Pad.Apply(image, dst, c, InputShape.H, InputShape.W, _win.Top, _win.Bottom, _win.Left, _win.Right, _reflect, 0, _hp);
                        image = dst;
                    }

                    Im2Col.Forward(image, c, _hp, _wp, _win.KH, _win.KW, _win.SH, _win.SW, _win.OH, _win.OW, col);
                    Sgemm.Run(_simd, false, false, _m, _p, _k, w, _k, col, _p, y + (nint)n * _m * _p, _p, b, false, 0, Sgemm.Panels(_simd, _p), scratch, FusedRelu);
                }
            }
        }

        private void BackwardImages(int start, int end, Chunk buffers)
        {
            int c = InputShape.C, inSize = InputShape.Size, padSize = c * _hp * _wp;
            fixed (float* x = _x, dy = _dy, dx = _dx, padded = _padded, col = buffers.Col, dPad = buffers.DPadded,
                   w = _weight.Value, dw = buffers.DW, db = buffers.DB, scratch = buffers.Scratch)
            {
                Array.Clear(buffers.DB);
                for (int n = start; n < end; n++)
                {
                    float* image = _win.HasPadding ? padded + (nint)n * padSize : x + (nint)n * inSize;
                    float* g = dy + (nint)n * _m * _p;
                    Im2Col.Forward(image, c, _hp, _wp, _win.KH, _win.KW, _win.SH, _win.SW, _win.OH, _win.OW, col);

                    // dW (M x K) += dy (M x P) * col^T (P x K).
                    Sgemm.Run(_simd, false, true, _m, _k, _p, g, _p, col, _p, dw, _k, null, n > start, 0, Sgemm.Panels(_simd, _k), scratch);
                    for (int i = 0; i < _m; i++) db[i] += Sum(g + (nint)i * _p, _p);
                    if (dx == null) continue;

                    // d col (K x P) = W^T (K x M) * dy (M x P), then col2im back onto the (padded) image.
                    Sgemm.Run(_simd, true, false, _k, _p, _m, w, _k, g, _p, col, _p, null, false, 0, Sgemm.Panels(_simd, _p), scratch);
                    float* target = _win.HasPadding ? dPad : dx + (nint)n * inSize;
                    new Span<float>(target, _win.HasPadding ? padSize : inSize).Clear();
                    Im2Col.Col2Im(col, c, _hp, _wp, _win.KH, _win.KW, _win.SH, _win.SW, _win.OH, _win.OW, target);
                    if (_win.HasPadding)
                        PadGradient.Apply(dPad, dx + (nint)n * inSize, c, InputShape.H, InputShape.W, _win.Top, _win.Bottom, _win.Left, _win.Right, _reflect);
                }
            }
        }

        private static float Sum(float* values, int count)
        {
            float s = 0;
            for (int i = 0; i < count; i++) s += values[i];
            return s;
        }

        private static void Add(float[] source, float[] target)
        {
            for (int i = 0; i < source.Length; i++) target[i] += source[i];
        }

        /// <summary>One thread's buffers: its im2col matrix, a padded image's gradient, its partial dW and db, GEMM scratch.</summary>
        private sealed class Chunk(int colFloats, int paddedFloats, int weightFloats, int biasFloats, long scratchFloats)
        {
            public readonly float[] Col = GC.AllocateArray<float>(colFloats, pinned: true);
            public readonly float[] DPadded = GC.AllocateArray<float>(paddedFloats, pinned: true);
            public readonly float[] DW = GC.AllocateArray<float>(weightFloats, pinned: true);
            public readonly float[] DB = GC.AllocateArray<float>(biasFloats, pinned: true);
            public readonly float[] Scratch = GC.AllocateArray<float>((int)scratchFloats, pinned: true);
        }
    }
}
