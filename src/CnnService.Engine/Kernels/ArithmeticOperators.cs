using System.Runtime.Intrinsics;

namespace CnnService.Engine.Kernels;

// IEEE addition, subtraction, multiplication and division round the same in every lane width,
// so the vector paths give the scalar twin's results bit for bit (mul's flush is the same in each too).

/// <summary>x + y.</summary>
internal readonly struct AddOperator : IBinaryOperator
{
    public static float Invoke(float x, float y) => x + y;
    public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x + y;
    public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x + y;
}

/// <summary>max(x + y, 0): a residual add with the ReLU after it fused in, the same bits as <see cref="ReluOperator"/> after <see cref="AddOperator"/>.</summary>
internal readonly struct AddReluOperator : IBinaryOperator
{
    public static float Invoke(float x, float y) => default(ReluOperator).Invoke(x + y);
    public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => default(ReluOperator).Invoke(x + y);
    public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => default(ReluOperator).Invoke(x + y);
}

/// <summary>x - y.</summary>
internal readonly struct SubOperator : IBinaryOperator
{
    public static float Invoke(float x, float y) => x - y;
    public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x - y;
    public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x - y;
}

/// <summary>
/// x * y, a subnormal product flushed to zero. A squeeze-and-excite gate near zero (sigmoid of -90 is 1e-39)
/// times a small activation is subnormal, and every multiply-add of the next convolution that reads a
/// subnormal costs a microcode assist: in EfficientNet-B0 a few hundred of them per map made the 1x1
/// projections after the gates ten times slower, a third of the pass. The values lost are below 1.2e-38.
/// </summary>
internal readonly struct MulOperator : IBinaryOperator
{
    /// <summary>The smallest normal float, 2^-126.</summary>
    private const float MinNormal = 1.17549435e-38f;

    public static float Invoke(float x, float y)
    {
        float p = x * y;
        return MathF.Abs(p) < MinNormal ? 0f : p;
    }

    public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> y)
    {
        Vector256<float> p = x * y;
        return Vector256.AndNot(p, Vector256.LessThan(Vector256.Abs(p), Vector256.Create(MinNormal)));
    }

    public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> y)
    {
        Vector512<float> p = x * y;
        return Vector512.AndNot(p, Vector512.LessThan(Vector512.Abs(p), Vector512.Create(MinNormal)));
    }
}

/// <summary>x / y.</summary>
internal readonly struct DivOperator : IBinaryOperator
{
    public static float Invoke(float x, float y) => x / y;
    public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x / y;
    public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x / y;
}
