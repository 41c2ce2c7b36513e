namespace CnnService.Engine.Runtime;

/// <summary>The shape of one item of a batch, in NCHW order without the N: channels, height, width.
/// A dense layer's output is (units, 1, 1).</summary>
public readonly record struct TensorShape(int C, int H, int W)
{
    public int Size => C * H * W;
    public override string ToString() => H == 1 && W == 1 ? $"[{C}]" : $"[{C},{H},{W}]";
}
