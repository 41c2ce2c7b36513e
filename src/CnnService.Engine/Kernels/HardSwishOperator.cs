using System.Runtime.Intrinsics;

namespace CnnService.Engine.Kernels;

/// <summary>
/// x * max(0, min(1, x / 6 + 0.5)), ONNX HardSwish (PyTorch's x * relu6(x + 3) / 6): x times the
/// hard sigmoid with alpha 1/6 and beta 0.5. As in both, -infinity gives NaN (-inf * 0).
/// </summary>
internal readonly struct HardSwishOperator() : IUnaryOperator
{
    private readonly HardSigmoidOperator _gate = new(1f / 6f, 0.5f);

    public float Invoke(float x) => x * _gate.Invoke(x);
    public Vector256<float> Invoke(Vector256<float> x) => x * _gate.Invoke(x);
    public Vector512<float> Invoke(Vector512<float> x) => x * _gate.Invoke(x);
}
