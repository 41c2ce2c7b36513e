namespace CnnService.Engine.Kernels;

/// <summary>
/// The A operand of the GEMM (weights: M rows of depth K), packed once at load time into panels
/// of MR = 8 rows laid out [K][MR], so the micro-kernel reads A strictly forwards, eight
/// broadcasts per step. Rows past M are zero; the bias is padded the same way. Immutable and
/// pinned: any number of threads read it at once.
/// </summary>
internal sealed class PackedMatrix
{
    public const int MR = 8;

    public int M { get; }
    public int K { get; }
    public int Panels { get; }

    /// <summary>[Panels][K][MR], pinned so kernels can hold raw pointers.</summary>
    public float[] Data { get; }

    /// <summary>[Panels * MR], zeros where the layer has no bias.</summary>
    public float[] Bias { get; }

    /// <summary>Every weight finite: a zero input then adds exactly nothing to any row (0 x inf would be NaN), so
    /// <see cref="Gemv"/> may skip it.</summary>
    public bool Finite { get; }

    /// <summary>Packs a row-major M x K matrix (PyTorch's [out, in, kh, kw] and [out, in] are exactly that).</summary>
    public PackedMatrix(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> bias)
    {
        if (a.Length != (long)m * k) throw new ArgumentException($"A has {a.Length} values, expected {m}x{k}.", nameof(a));
        if (!bias.IsEmpty && bias.Length != m) throw new ArgumentException($"bias has {bias.Length} values, expected {m}.", nameof(bias));
        M = m;
        K = k;
        Panels = (m + MR - 1) / MR;
        Data = GC.AllocateArray<float>(Panels * MR * k, pinned: true);
        Bias = GC.AllocateArray<float>(Panels * MR, pinned: true);
        for (int i = 0; i < m; i++)
        {
            int panel = i / MR, r = i % MR;
            ReadOnlySpan<float> row = a.Slice(i * k, k);
            Span<float> dst = Data.AsSpan(panel * MR * k);
            for (int kk = 0; kk < k; kk++)
            {
                dst[kk * MR + r] = row[kk];
            }
        }

        bias.CopyTo(Bias);
        Finite = true;
        foreach (float v in a) Finite &= float.IsFinite(v);
    }

    /// <summary>
    /// This matrix with column k times <paramref name="scale"/>[k], packed the same, into <paramref name="dst"/> (Panels * MR * K
    /// floats): a 1x1 convolution's weights with a squeeze-and-excitation gate on its input channels folded in. A subnormal
    /// product is zero, as <see cref="MulOperator"/> makes it on the gated map: multiply-adds that read subnormals cost microcode assists.
    /// </summary>
    public unsafe void ScaleColumns(float* scale, float* dst)
    {
        fixed (float* src = Data)
        {
            for (int panel = 0; panel < Panels; panel++)
            {
                for (int k = 0; k < K; k++)
                {
                    nint at = ((nint)panel * K + k) * MR;
                    for (int r = 0; r < MR; r++) dst[at + r] = MulOperator.Invoke(src[at + r], scale[k]);
                }
            }
        }
    }

    /// <summary>The row-major M x K matrix back, as it was before packing.</summary>
    public float[] Unpack()
    {
        var a = new float[M * K];
        for (int i = 0; i < M; i++)
        {
            int panel = i / MR, r = i % MR;
            ReadOnlySpan<float> src = Data.AsSpan(panel * MR * K);
            Span<float> row = a.AsSpan(i * K, K);
            for (int kk = 0; kk < K; kk++) row[kk] = src[kk * MR + r];
        }

        return a;
    }
}
