using CnnService.Engine.Format;
using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// "pad": each plane padded by "padding" [top, left, bottom, right] (or [h, w], or one integer),
/// with "mode" "constant" (the default; "value", default 0), "reflect" or "edge". ONNX's Pad on
/// the two spatial axes; a convolution's own padding never needs this layer.
/// </summary>
public sealed unsafe class Pad2D : Layer, IParallelWork
{
    private readonly int _top, _left, _bottom, _right;

    internal Pad2D(LayerSpec spec, string where, TensorShape input)
        : base("pad", spec.Name, input, Output(spec, where, input))
    {
        (_top, _left, _bottom, _right) = (spec.Padding.Top, spec.Padding.Left, spec.Padding.Bottom, spec.Padding.Right);
        var attributes = new LayerAttributes(spec, where);
        Mode = attributes.String("mode", "constant", "constant", "reflect", "edge") switch
        {
            "reflect" => PadMode.Reflect,
            "edge" => PadMode.Edge,
            _ => PadMode.Constant,
        };
        Value = attributes.Float("value", 0f);
        if (Mode == PadMode.Reflect && (Math.Max(_top, _bottom) >= input.H || Math.Max(_left, _right) >= input.W))
            throw new ModelFormatException(
                $"{where}: reflect padding must be smaller than the input on each side: [{_top},{_left},{_bottom},{_right}] on a {input.H}x{input.W} input.");
    }

    internal PadMode Mode { get; }

    /// <summary>The constant mode's fill value.</summary>
    public float Value { get; }

    internal override void Forward(ParallelJob job, int threads)
    {
        int planes = job.Batch * InputShape.C;
        job.Run(this, Parallelism.Chunks((long)job.Batch * OutputShape.Size, planes, threads), threads);
    }

    void IParallelWork.RunChunk(ParallelJob job, int chunk)
    {
        (int start, int end) = Parallelism.Range(job.Batch * InputShape.C, job.Chunks, chunk);
        int h = InputShape.H, w = InputShape.W, inPlane = h * w, outPlane = OutputShape.H * OutputShape.W;
        for (int plane = start; plane < end; plane++)
            PadPlane.Plane(job.Input + (nint)plane * inPlane, job.Output + (nint)plane * outPlane, h, w, _top, _left, _bottom, _right, Mode, Value);
    }

    private static TensorShape Output(LayerSpec spec, string where, TensorShape input)
    {
        // "same" and "valid" describe a window's padding; a pad layer has no window.
        if (spec.Padding.Kind != PaddingKind.Explicit)
            throw new ModelFormatException($"{where}: pad needs \"padding\" as [top, left, bottom, right], [h, w] or an integer, not \"{spec.Padding.Kind.ToString().ToLowerInvariant()}\".");
        Padding p = spec.Padding;
        if (Math.Min(Math.Min(p.Top, p.Left), Math.Min(p.Bottom, p.Right)) < 0)
            throw new ModelFormatException($"{where}: padding must not be negative.");
        // Each side is at most LayerSpecReader's cap, so these sums cannot overflow; the model refuses an output too large.
        return new TensorShape(input.C, input.H + p.Top + p.Bottom, input.W + p.Left + p.Right);
    }
}
