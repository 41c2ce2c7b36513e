using CnnService.Engine.Format;
using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// add, sub, mul, div with numpy broadcasting over the per-item (C, H, W) shapes: two inputs, or
/// one input and a constant <c>{name}.value</c> of shape "constant_shape" ("constant_first": the
/// constant is the left operand). The output is walked as rows of its innermost collapsed
/// dimension (see <see cref="Broadcast"/>), each row one SIMD run against a run or a repeated value:
/// a residual add or SiLU's x * sigmoid(x) is one run per item, a squeeze-and-excite gate or a
/// per-channel scale one run per channel. Writes over its first input when the output has its shape.
/// A mul of a tensor and its own sigmoid is SiLU, and of its own hard sigmoid (alpha 1/6) hardswish: the model's plan
/// fuses the gate in (<see cref="FuseSelfGate"/>), and the mul then computes x * gate(x) in one pass; a ReLU that is the only reader of a same-shape add runs in
/// the add's store (<see cref="FuseRelu"/>).
/// </summary>
public sealed unsafe class Binary : Layer, IParallelWork
{
    /// <summary>Elements per work item at most: long runs split into blocks of this many.</summary>
    private const int Block = 4096;

    private const int MaxDim = 1 << 20;

    /// <summary>
    /// Work an element counts for when the call is split across threads: an elementwise op is three streams of memory and
    /// next to no arithmetic, and its inputs come from layers that were split, each core holding its part in cache. Counted
    /// as one FLOP an element, MobileNet V2's 32 x 28x28 residual add stayed on one core and read half of its inputs from
    /// the other's cache: 0.011 ms at batch 1 on two threads, 0.002 ms on one; split, 0.006 ms (its ten adds 0.071 -> 0.042 ms
    /// a pass; AMD EPYC Zen 4). SiLU's exponential costs about as much (a hardswish less, counted the same).
    /// </summary>
    private const int WorkPerElement = 16;

    private readonly Operation _op;
    private readonly SimdLevel _simd;
    private readonly float[]? _constant;
    private readonly bool _constantFirst;
    private readonly Broadcast _plan;
    private readonly long _leftItem, _rightItem; // floats per item of each operand; 0 for the constant
    private readonly int _blocks;                // blocks per row
    private FusedActivation _selfGate;

    internal Binary(LayerSpec spec, string where, TensorShape[] inputs, IWeightSource weights, SimdLevel simd)
        : base(spec.Type, spec.Name, inputs, Output(spec, where, inputs, out TensorShape left, out TensorShape right, out TensorShape? constant, out bool constantFirst))
    {
        _op = spec.Type switch
        {
            "add" => Operation.Add,
            "sub" => Operation.Sub,
            "mul" => Operation.Mul,
            "div" => Operation.Div,
            _ => throw new ArgumentOutOfRangeException(nameof(spec)),
        };
        _simd = simd;
        _constantFirst = constantFirst;
        if (constant is { } c)
        {
            if (spec.Name is null) throw new ModelFormatException($"{where}: \"name\" is required for a constant (it is read from \"name.value\").");
            _constant = weights.Take($"{spec.Name}.value", c.C, c.H, c.W);
        }

        _plan = Broadcast.Plan(left, right, OutputShape);
        _leftItem = constant is not null && constantFirst ? 0 : left.Size;
        _rightItem = constant is not null && !constantFirst ? 0 : right.Size;
        _blocks = (_plan.Inner + Block - 1) / Block;
    }

    private enum Operation { Add, Sub, Mul, Div }

    public override long Parameters => _constant?.Length ?? 0;

    public override long FlopsPerImage => OutputShape.Size;

    /// <summary>Elementwise over the first input when it already has the output's shape; a broadcast output is a new tensor.</summary>
    internal override bool InPlace => OutputShape == InputShape;

    /// <summary>What this mul computes from one operand alone once the plan has fused the other, that operand's gate, in:
    /// SiLU (x * sigmoid(x)) or hardswish (x * hardsigmoid(x)); none for a plain mul.</summary>
    internal FusedActivation SelfGate => _selfGate;

    /// <summary>Whether this is a mul of two same-shape tensors, so that a gate of one of them can be fused in.</summary>
    internal bool CanFuseSelfGate => _op == Operation.Mul && SameShape;

    /// <summary>True when the plan has fused the ReLU that is this add's only reader: it stores max(left + right, 0).</summary>
    internal bool FusedRelu { get; private set; }

    /// <summary>Whether this is an add of two same-shape tensors (ResNet's residual add), so that the ReLU after it can run in its store.</summary>
    internal bool CanFuseRelu => _op == Operation.Add && SameShape;

    /// <summary>Set once by the model's plan, before the model is used: the ReLU reading this add runs nothing.</summary>
    internal void FuseRelu()
    {
        if (!CanFuseRelu) throw new InvalidOperationException("Only an add of two same-shape tensors fuses a ReLU.");
        FusedRelu = true;
    }

    /// <summary>Set once by the model's plan, before the model is used: the second operand is the first's gate, whose layer
    /// runs nothing (so both inputs are the first operand's buffer), and this mul computes <paramref name="act"/>.</summary>
    internal void FuseSelfGate(FusedActivation act)
    {
        if (!CanFuseSelfGate || act.Kind is not (FusedActivationKind.Silu or FusedActivationKind.HardSwish))
            throw new InvalidOperationException($"Only a mul of two same-shape tensors computes SiLU or hardswish, not {act}.");
        _selfGate = act;
    }

    /// <summary>For a mul of a [C, H, W] map by a [C, 1, 1] gate (squeeze-and-excitation's scaling), the input that is the map
    /// (0 or 1); else -1.</summary>
    internal int GatedMapInput =>
        _op != Operation.Mul || _constant is not null || !_selfGate.IsNone || OutputShape is { H: 1, W: 1 } ? -1
        : InputShapes[0] == OutputShape && IsGate(InputShapes[1]) ? 0
        : InputShapes[1] == OutputShape && IsGate(InputShapes[0]) ? 1 : -1;

    private bool IsGate(TensorShape shape) => shape.C == OutputShape.C && shape.H == 1 && shape.W == 1;

    /// <summary>Whether both operands and the output have one shape (a residual add, SiLU's and hardswish's mul).</summary>
    private bool SameShape => _constant is null && InputShapes[0] == OutputShape && InputShapes[1] == OutputShape;

    internal override void Forward(ParallelJob job, int threads)
    {
        long length = (long)job.Batch * OutputShape.Size;
        if (!_selfGate.IsNone && !job.Unfused)
        {
            job.Run(this, Parallelism.Chunks(WorkPerElement * length, GateBlocks(length), threads), threads);
            return;
        }

        job.Run(this, Parallelism.Chunks(WorkPerElement * length, Items(job.Batch), threads), threads);
    }

    void IParallelWork.RunChunk(ParallelJob job, int chunk)
    {
        if (!_selfGate.IsNone && !job.Unfused)
        {
            long length = (long)job.Batch * OutputShape.Size;
            (int first, int last) = Parallelism.Range(GateBlocks(length), job.Chunks, chunk);
            nint from = (nint)first * Block, count = (nint)Math.Min((long)last * Block, length) - from;
            float* x = (float*)job.Inputs[0] + from, y = job.Output + from;
            if (_selfGate.Kind == FusedActivationKind.Silu) UnaryDriver.Apply(new SiluOperator(), x, y, count, _simd);
            else UnaryDriver.Apply(new HardSwishOperator(), x, y, count, _simd);
            return;
        }

        (int start, int end) = Parallelism.Range(Items(job.Batch), job.Chunks, chunk);
        fixed (float* constant = _constant)
        {
            // The dynamic input is Inputs[0] beside a constant; with two inputs, left and right in order.
            float* left = _constant is null ? (float*)job.Inputs[0] : _constantFirst ? constant : (float*)job.Inputs[0];
            float* right = _constant is null ? (float*)job.Inputs[1] : _constantFirst ? (float*)job.Inputs[0] : constant;
            switch (_op)
            {
                case Operation.Add when FusedRelu && !job.Unfused: Rows<AddReluOperator>(left, right, job.Output, start, end); break;
                case Operation.Add: Rows<AddOperator>(left, right, job.Output, start, end); break;
                case Operation.Sub: Rows<SubOperator>(left, right, job.Output, start, end); break;
                case Operation.Mul: Rows<MulOperator>(left, right, job.Output, start, end); break;
                default: Rows<DivOperator>(left, right, job.Output, start, end); break;
            }
        }
    }

    /// <summary>Work items [start, end): each one block of one row, rows numbered across the batch.</summary>
    private void Rows<TOp>(float* left, float* right, float* output, int start, int end)
        where TOp : IBinaryOperator
    {
        Broadcast p = _plan;
        int[] dims = p.Dims;
        long[] ls = p.LeftStrides, rs = p.RightStrides;
        int rank = dims.Length, inner = p.Inner;
        bool leftRuns = ls[rank - 1] != 0, rightRuns = rs[rank - 1] != 0;
        for (int item = start; item < end; item++)
        {
            int row = item / _blocks, from = item % _blocks * Block;
            int image = row / p.RowsPerItem, r = row % p.RowsPerItem;
            long l = image * _leftItem, q = image * _rightItem;
            if (rank == 3)
            {
                int i0 = r / dims[1], i1 = r % dims[1];
                l += i0 * ls[0] + i1 * ls[1];
                q += i0 * rs[0] + i1 * rs[1];
            }
            else if (rank == 2)
            {
                l += r * ls[0];
                q += r * rs[0];
            }

            nint count = Math.Min(Block, inner - from);
            float* y = output + (long)row * inner + from;
            if (leftRuns && rightRuns) BinaryDriver.Apply<TOp>(left + l + from, right + q + from, y, count, _simd);
            else if (leftRuns) BinaryDriver.ApplyRight<TOp>(left + l + from, right[q], y, count, _simd);
            else BinaryDriver.ApplyLeft<TOp>(left[l], right + q + from, y, count, _simd);
        }
    }

    private int Items(int batch) => batch * _plan.RowsPerItem * _blocks;

    private static int GateBlocks(long length) => (int)((length + Block - 1) / Block);

    private static TensorShape Output(LayerSpec spec, string where, TensorShape[] inputs,
        out TensorShape left, out TensorShape right, out TensorShape? constant, out bool constantFirst)
    {
        var attributes = new LayerAttributes(spec, where);
        bool hasConstant = attributes.Has("constant_shape");
        constant = null;
        constantFirst = false;
        if (inputs.Length == 2 && !hasConstant)
        {
            if (attributes.Has("constant_first"))
                throw new ModelFormatException($"{where}: \"constant_first\" needs a constant (\"constant_shape\" and one input).");
            (left, right) = (inputs[0], inputs[1]);
        }
        else if (inputs.Length == 1 && hasConstant)
        {
            int[] dims = attributes.Ints("constant_shape", 1, MaxDim)!;
            if (dims.Length != 3)
                throw new ModelFormatException($"{where}: \"constant_shape\" must be [c, h, w], got {dims.Length} numbers.");
            TensorShape c = new(dims[0], dims[1], dims[2]);
            constant = c;
            constantFirst = attributes.Bool("constant_first", false);
            (left, right) = constantFirst ? (c, inputs[0]) : (inputs[0], c);
        }
        else
        {
            throw new ModelFormatException($"{where}: {spec.Type} reads two inputs, or one input and a constant (\"constant_shape\"); got {inputs.Length} input{(inputs.Length == 1 ? "" : "s")}{(hasConstant ? " and a constant" : "")}.");
        }

        if (Broadcast.Shape(left, right) is not { } output)
            throw new ModelFormatException($"{where}: shapes {Show(left)} and {Show(right)} do not broadcast (each dimension must be equal or 1).");
        if ((long)output.C * output.H * output.W > Model.MaxActivationFloats)
            throw new ModelFormatException($"{where}: output {output.C}x{output.H}x{output.W} is larger than {Model.MaxActivationFloats:N0} values per image.");
        return output;
    }

    private static string Show(TensorShape s) => $"[{s.C},{s.H},{s.W}]";
}
