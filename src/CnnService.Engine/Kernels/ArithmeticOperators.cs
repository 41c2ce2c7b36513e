using System.Runtime.Intrinsics;

namespace CnnService.Engine.Kernels;

// IEEE addition, subtraction, multiplication and division round the same in every lane width,
// so the vector paths give the scalar twin's results bit for bit.

/// <summary>x + y.</summary>
internal readonly struct AddOperator : IBinaryOperator
{
    public static float Invoke(float x, float y) => x + y;
    public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x + y;
    public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x + y;
}

/// <summary>x - y.</summary>
internal readonly struct SubOperator : IBinaryOperator
{
    public static float Invoke(float x, float y) => x - y;
    public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x - y;
    public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x - y;
}

/// <summary>x * y.</summary>
internal readonly struct MulOperator : IBinaryOperator
{
    public static float Invoke(float x, float y) => x * y;
    public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x * y;
    public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x * y;
}

/// <summary>x / y.</summary>
internal readonly struct DivOperator : IBinaryOperator
{
    public static float Invoke(float x, float y) => x / y;
    public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x / y;
    public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x / y;
}
