using CnnService.Engine.Format;
using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// The elementwise activations, in place: relu, sigmoid, tanh, clip ("min", "max"; absent = no bound),
/// hardsigmoid (alpha 0.2, beta 0.5 unless given) and hardswish. Each is an <see cref="IUnaryOperator"/>
/// run by <see cref="UnaryDriver"/>. A ReLU straight after a conv2d or dense layer never runs here:
/// the model plan fuses it into that layer's GEMM.
/// </summary>
public sealed unsafe partial class Activation : Layer, IParallelWork
{
    /// <summary>Elements per chunk unit: a chunk is a whole number of these.</summary>
    private const int Block = 4096;

    private readonly SimdLevel _simd;
    private readonly Function _function;
    private readonly ClipOperator _clip;
    private readonly HardSigmoidOperator _hardSigmoid;

    /// <summary>clip's bounds, and hardsigmoid's slope (backward reads them) and offset.</summary>
    private readonly float _lo, _hi, _slope, _offset;

    internal Activation(LayerSpec spec, string where, TensorShape input, SimdLevel simd)
        : base(spec.Type, spec.Name, input, input)
    {
        _simd = simd;
        _function = spec.Type switch
        {
            "relu" => Function.Relu,
            "sigmoid" => Function.Sigmoid,
            "tanh" => Function.Tanh,
            "clip" => Function.Clip,
            "hardsigmoid" => Function.HardSigmoid,
            "hardswish" => Function.HardSwish,
            _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Type, "not an activation"),
        };

        if (_function == Function.Clip)
        {
            var attributes = new LayerAttributes(spec, where);
            (_lo, _hi) = (attributes.Float("min", float.NegativeInfinity), attributes.Float("max", float.PositiveInfinity));
            _clip = new ClipOperator(_lo, _hi);
        }
        else if (_function == Function.HardSigmoid)
        {
            (_slope, _offset) = (spec.Alpha ?? 0.2f, spec.Beta ?? 0.5f);
            _hardSigmoid = new HardSigmoidOperator(_slope, _offset);
        }
    }

    private enum Function { Relu, Sigmoid, Tanh, Clip, HardSigmoid, HardSwish }

    public override long FlopsPerImage => InputShape.Size;

    /// <summary>This activation as a kernel can fuse it (relu and clip as a clamp, hardswish), or none.</summary>
    internal FusedActivation AsFused => _function switch
    {
        Function.Relu => FusedActivation.Relu,
        Function.Clip => FusedActivation.Clamp(_lo, _hi),
        Function.HardSwish => FusedActivation.HardSwish,
        _ => FusedActivation.None,
    };

    /// <summary>What a mul of x and this activation of x computes, as one activation: SiLU for the sigmoid, hardswish for
    /// hardswish's own gate (alpha 1/6, beta 0.5: PyTorch's hardswish before opset 14 exports as that mul); else none.</summary>
    internal FusedActivation TimesItsInput => _function switch
    {
        Function.Sigmoid => FusedActivation.Silu,
        Function.HardSigmoid when _slope == 1f / 6f && _offset == 0.5f => FusedActivation.HardSwish,
        _ => FusedActivation.None,
    };

    internal override bool InPlace => true;

    internal override void Forward(ParallelJob job, int threads)
    {
        // An exponential costs about 16 times a max: sigmoid and tanh split across threads sooner.
        long length = (long)job.Batch * InputShape.Size;
        int cost = _function is Function.Sigmoid or Function.Tanh ? 16 : 1;
        job.Run(this, Parallelism.Chunks(length * cost, Blocks(length), threads), threads);
    }

    void IParallelWork.RunChunk(ParallelJob job, int chunk)
    {
        long length = (long)job.Batch * InputShape.Size;
        (int start, int end) = Parallelism.Range(Blocks(length), job.Chunks, chunk);
        nint from = (nint)start * Block, count = (nint)Math.Min((long)end * Block, length) - from;
        float* x = job.Input + from, y = job.Output + from;
        switch (_function)
        {
            case Function.Relu: UnaryDriver.Apply(new ReluOperator(), x, y, count, _simd); break;
            case Function.Sigmoid: UnaryDriver.Apply(new SigmoidOperator(), x, y, count, _simd); break;
            case Function.Tanh: UnaryDriver.Apply(new TanhOperator(), x, y, count, _simd); break;
            case Function.Clip: UnaryDriver.Apply(_clip, x, y, count, _simd); break;
            case Function.HardSigmoid: UnaryDriver.Apply(_hardSigmoid, x, y, count, _simd); break;
            default: UnaryDriver.Apply(new HardSwishOperator(), x, y, count, _simd); break;
        }
    }

    private static int Blocks(long length) => (int)((length + Block - 1) / Block);
}
