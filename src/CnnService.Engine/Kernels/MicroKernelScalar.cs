namespace CnnService.Engine.Kernels;

/// <summary>
/// The portable twin of the SIMD micro-kernels: the same packed layouts and the same contract,
/// in plain loops. It is the fallback on CPUs without vector units and the reference the tests
/// hold the SIMD kernels to.
/// </summary>
internal readonly unsafe struct MicroKernelScalar : IMicroKernel
{
    public static int MR => 8;
    public static int NR => 8;

    public static void Run(int k, float* a, float* b, float* bias, float* c, int ldc, int rows, int columns, bool accumulate, bool relu) =>
        Run(k, a, b, bias, c, ldc, rows, accumulate, relu);

    public static void Run(int k, float* a, float* b, float* bias, float* c, int ldc, int rows, bool accumulate, bool relu)
    {
        // Products from zero, the start value (bias or the earlier blocks' sum) added at the end, as the SIMD kernels do.
        float* acc = stackalloc float[8 * 8];
        new Span<float>(acc, 8 * 8).Clear();

        for (; k > 0; k--)
        {
            for (int r = 0; r < 8; r++)
            {
                float x = a[r];
                for (int j = 0; j < 8; j++)
                {
                    acc[r * 8 + j] += x * b[j];
                }
            }

            a += 8;
            b += 8;
        }

        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < 8; j++)
            {
                float v = acc[r * 8 + j] + (accumulate ? c[r * ldc + j] : bias[r]);
                c[r * ldc + j] = relu && v < 0f ? 0f : v;
            }
        }
    }
}
