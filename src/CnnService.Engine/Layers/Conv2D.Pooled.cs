using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

public sealed unsafe partial class Conv2D
{
    /// <summary>The 2x2 max pool that reads this layer's output runs inside it (<see cref="ConvPool2x2"/>); null when none does.</summary>
    private PooledStep? _pooled;

    /// <summary>
    /// Plans the max pool <paramref name="pool"/>, the only reader of this layer's output (after the ReLU fused into it, if
    /// any), to run inside this layer: a 2x2 one when both suit <see cref="ConvPool2x2"/> (a stride-1 unpadded convolution
    /// with few taps on AVX-512 or AVX2, a pool that drops a last odd row or column), a 3x3 stride-2 one after direct rows
    /// (<see cref="TryFuseDirectPool"/>). Returns whether it does. Called once, by the model's plan, before the model is
    /// shared. A trace still runs both layers as written.
    /// </summary>
    internal bool TryFusePool(Pool2D pool)
    {
        if (_pooled is not null || _directPool is not null || _writesPaddedFor is not null || InputArrivesPadded) return false;
        if (TryFuseDirectPool(pool)) return true;
        if (!FusedOutput.IsNone || !ConvPool2x2.Supports(_simd)) return false;
        if (_win is not { SH: 1, SW: 1, HasPadding: false } || !ConvPool2x2.Suits(InputShape.C, _win.KH, _win.KW, _win.OH, _win.OW)) return false;
        if (!pool.IsPlainMax2x2 || pool.OutputShape.H != _win.OH / 2 || pool.OutputShape.W != _win.OW / 2) return false;
        _pooled = new PooledStep(this, pool.OutputShape);
        return true;
    }

    /// <summary>Runs the pooled lowering over the job's batch: work items are images times column blocks of the pooled map.</summary>
    private void ForwardPooled(PooledStep step, ParallelJob job, int threads) =>
        job.Run(step, Parallelism.Chunks(FlopsPerImage * job.Batch, job.Batch * step.Blocks, threads), threads);

    private sealed class PooledStep : IParallelWork
    {
        private readonly Conv2D _conv;
        private readonly float[] _weights;
        private readonly float[] _bias;
        private readonly int[] _taps;

        public PooledStep(Conv2D conv, TensorShape pooled)
        {
            _conv = conv;
            Pooled = pooled;
            int taps = conv._weights.K;
            _weights = ConvPool2x2.Pack(conv._weights.Unpack(), conv._weights.M, taps);
            _bias = conv._weights.Bias.ToArray();
            _taps = ConvPool2x2.Taps(conv.InputShape.C, conv.InputShape.H, conv._win.KH, conv._win.KW);
            Blocks = ConvPool2x2.Blocks(pooled.W);
        }

        /// <summary>The pooled output shape: what this layer writes per image.</summary>
        public TensorShape Pooled { get; }

        public int Blocks { get; }

        public void RunChunk(ParallelJob job, int chunk)
        {
            (int start, int end) = Parallelism.Range(job.Batch * Blocks, job.Chunks, chunk);
            TensorShape input = _conv.InputShape;
            int kw = _conv._win.KW, m = Pooled.C, ph = Pooled.H, pw = Pooled.W, rowStride = (kw + 1) * ConvPool2x2.Lanes;
            bool relu = _conv.FusedRelu, wide = _conv._simd == SimdLevel.Vector512;
            nint outPlane = (nint)ph * pw;
            float* phases = ThreadScratch.Get(ConvPool2x2.PhaseFloats(input.C, input.H, kw));
            fixed (float* weights = _weights, bias = _bias)
            fixed (int* taps = _taps)
            {
                for (int item = start; item < end; item++)
                {
                    int n = item / Blocks, j0 = (item - n * Blocks) * ConvPool2x2.Lanes, cols = Math.Min(ConvPool2x2.Lanes, pw - j0);
                    float* source = job.Input + (nint)n * input.Size, image = job.Output + (nint)n * m * outPlane + j0;
                    if (wide) ConvPool2x2.DeinterleaveVector(source, input.C, input.H, input.W, kw, j0, cols, phases);
                    else ConvPool2x2.Deinterleave256(source, input.C, input.H, input.W, kw, j0, cols, phases);
                    for (int py = 0; py < ph; py++)
                    {
                        if (wide) ConvPool2x2.Row(weights, bias, m, phases, taps, _taps.Length, rowStride, py, image + (nint)py * pw, outPlane, cols, relu);
                        else ConvPool2x2.Row256(weights, bias, m, phases, taps, _taps.Length, rowStride, py, image + (nint)py * pw, outPlane, cols, relu);
                    }
                }
            }
        }
    }
}
