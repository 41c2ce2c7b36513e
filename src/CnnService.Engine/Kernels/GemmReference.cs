namespace CnnService.Engine.Kernels;

/// <summary>
/// The plain triple loop, kept beside the fast GEMM as its definition: C[M x N] = A[M x K] * B[K x N],
/// all row-major, accumulated in double so it is the more exact of the two.
/// </summary>
internal static class GemmReference
{
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int kk = 0; kk < k; kk++)
                {
                    sum += (double)a[i * k + kk] * b[kk * n + j];
                }

                c[i * n + j] = (float)sum;
            }
        }
    }
}
