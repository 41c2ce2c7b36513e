using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;
using CnnService.Engine.Training;

namespace CnnService.Engine.Layers;

public sealed partial class Dense
{
    internal override TrainLayer ForTraining(TrainSetup setup) => new Trainable(this, setup);

    /// <summary>
    /// A fully connected layer for training, three GEMMs over the batch on weights that change every step:
    /// y = x * W^T + b, dW = dy^T * x, dx = dy * W (W is [units x inputs], PyTorch's Linear layout), with db
    /// the column sums of dy. Each GEMM's column panels are split across threads.
    /// </summary>
    private sealed unsafe class Trainable : TrainLayer, IParallelWork
    {
        private enum Step { Forward, WeightGradient, InputGradient }

        private readonly Parameter _weight;
        private readonly Parameter? _bias;
        private readonly int _units, _inputs;
        private readonly float[][] _scratch;

        private float[] _x = [], _y = [], _dy = [], _dx = [];
        private Step _step;
        private int _batch;
        private SimdLevel _simd;

        public Trainable(Dense dense, TrainSetup setup)
            : base("dense", dense.Name, dense.InputShape, dense.OutputShape)
        {
            FusedRelu = dense.FusedRelu;
            _units = OutputShape.C;
            _inputs = InputShape.Size;
            _weight = new Parameter($"{Name}.weight", [_units, _inputs], setup.Weights.Take($"{Name}.weight", _units, _inputs));
            _bias = dense._hasBias ? new Parameter($"{Name}.bias", [_units], setup.Weights.Take($"{Name}.bias", _units)) : null;
            Parameters = _bias is null ? [_weight] : [_weight, _bias];
            int rows = Math.Max(setup.MaxBatch, _units), depth = Math.Max(_inputs, Math.Max(setup.MaxBatch, _units));
            _scratch = new float[Math.Max(1, setup.Threads)][];
            for (int i = 0; i < _scratch.Length; i++)
                _scratch[i] = GC.AllocateArray<float>((int)Sgemm.ScratchFloats(SimdLevel.Vector512, rows, depth), pinned: true);
        }

        public override IReadOnlyList<Parameter> Parameters { get; }

        /// <summary>The ReLU after this layer runs in its GEMM's store; its gradient masks dy here.</summary>
        public bool FusedRelu { get; }

        public override void Forward(TrainContext ctx, float[] input, float[] output)
        {
            (_x, _y, _batch, _simd) = (input, output, ctx.Batch, ctx.Simd);

            // The bias is per column here, so it seeds C and the GEMM accumulates onto it.
            for (int n = 0; n < _batch; n++)
            {
                Span<float> row = output.AsSpan(n * _units, _units);
                if (_bias is null) row.Clear();
                else _bias.Value.CopyTo(row);
            }

            RunSplit(ctx, Step.Forward, _units);
        }

        public override void Backward(TrainContext ctx, float[] input, float[] output, float[] dOutput, float[]? dInput)
        {
            (_x, _dy, _batch, _simd) = (input, dOutput, ctx.Batch, ctx.Simd);
            int count = _batch * _units;
            if (FusedRelu) ReluGradient.Apply(output.AsSpan(0, count), dOutput.AsSpan(0, count), dOutput.AsSpan(0, count));
            RunSplit(ctx, Step.WeightGradient, _inputs);
            if (_bias is not null)
            {
                Span<float> db = _bias.Grad;
                db.Clear();
                for (int n = 0; n < _batch; n++)
                {
                    ReadOnlySpan<float> g = dOutput.AsSpan(n * _units, _units);
                    for (int u = 0; u < _units; u++) db[u] += g[u];
                }
            }

            if (dInput is null) return;
            _dx = dInput;
            RunSplit(ctx, Step.InputGradient, _inputs);
        }

        private void RunSplit(TrainContext ctx, Step step, int columns)
        {
            _step = step;
            int panels = Sgemm.Panels(ctx.Simd, columns);
            long flops = 2L * _batch * _units * _inputs;
            ctx.Run(this, Parallelism.Chunks(flops, panels, ctx.Threads));
        }

        void IParallelWork.RunChunk(ParallelJob job, int chunk)
        {
            int columns = _step == Step.Forward ? _units : _inputs;
            (int start, int end) = Parallelism.Range(Sgemm.Panels(_simd, columns), job.Chunks, chunk);
            fixed (float* x = _x, y = _y, dy = _dy, dx = _dx, w = _weight.Value, dw = _weight.Grad, scratch = _scratch[chunk])
            {
                switch (_step)
                {
                    case Step.Forward: // y (N x U) += x (N x I) * W^T (I x U)
                        Sgemm.Run(_simd, false, true, _batch, _units, _inputs, x, _inputs, w, _inputs, y, _units, null, true, start, end, scratch, FusedRelu);
                        break;
                    case Step.WeightGradient: // dW (U x I) = dy^T (U x N) * x (N x I)
                        Sgemm.Run(_simd, true, false, _units, _inputs, _batch, dy, _units, x, _inputs, dw, _inputs, null, false, start, end, scratch);
                        break;
                    default: // dx (N x I) = dy (N x U) * W (U x I)
                        Sgemm.Run(_simd, false, false, _batch, _inputs, _units, dy, _units, w, _inputs, dx, _inputs, null, false, start, end, scratch);
                        break;
                }
            }
        }
    }
}
