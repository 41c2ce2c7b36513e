namespace CnnService.Engine.Kernels;

// Legend: see IMicroKernel.cs. Here a tile is a 4 x 4 block of output positions of one image, T = TH * TW of them per
// image (TH = ceil(OH / 4), TW = ceil(OW / 4)); xi = 6 * rho + sigma is one of the 36 points of the transformed 6 x 6 tile.

/// <summary>
/// Winograd's minimal filtering F(4x4, 3x3) (Lavin and Gray, 2015), the plain reference: a 3x3 stride-1 convolution's
/// 4 x 4 output tile from a 6 x 6 input tile with 36 multiplies per input channel and filter where the direct form takes
/// 144. The input tile d and the kernel g go to the transformed domain (V = B^T d B, U = G g G^T), meet there point by
/// point, summed over input channels (36 independent GEMMs, [M x C] times [C x tiles]), and come back (Y = A^T M A).
/// The transforms are exact in real arithmetic; in floats they add a rounding error of a few units in the last place of
/// the tile's largest terms (the points 0, +-1, +-2 keep the constants small: at most 8 in A, 5 in B).
/// Each 1-D transform here is written once, as the op sequence <see cref="Winograd256"/> runs in vector lanes, so the two
/// give the same bits.
/// </summary>
internal static unsafe class Winograd
{
    /// <summary>Output positions along a tile's side.</summary>
    public const int Tile = 4;

    /// <summary>Input positions along a transformed tile's side: Tile + 3 - 1.</summary>
    public const int Alpha = 6;

    /// <summary>Points of a transformed tile: its 36 GEMMs.</summary>
    public const int Points = Alpha * Alpha;

    /// <summary>Tiles of one image's output.</summary>
    public static int TilesPerImage(int oh, int ow) => TileRows(oh) * TileColumns(ow);

    public static int TileRows(int oh) => (oh + Tile - 1) / Tile;

    public static int TileColumns(int ow) => (ow + Tile - 1) / Tile;

    /// <summary>G g G^T for every filter and input channel of <paramref name="w"/> ([M][C][3][3], PyTorch's order), computed in
    /// double and rounded once, packed as 36 GEMM A operands: [36][panels of MR filters][C][MR], rows past M zero.</summary>
    public static float[] TransformWeights(ReadOnlySpan<float> w, int m, int c)
    {
        if (w.Length != m * c * 9) throw new ArgumentException($"expected {m}x{c}x3x3 weights, got {w.Length} values.", nameof(w));
        int mr = PackedMatrix.MR, panels = (m + mr - 1) / mr;
        long perPoint = (long)panels * mr * c;
        float[] u = GC.AllocateArray<float>((int)(Points * perPoint), pinned: true);
        Span<double> g = stackalloc double[9];
        Span<double> gg = stackalloc double[Points];
        for (int i = 0; i < m; i++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                for (int t = 0; t < 9; t++) g[t] = w[(i * c + ch) * 9 + t];
                KernelTransform(g, gg);
                long at = (long)(i / mr) * mr * c + (long)ch * mr + i % mr;
                for (int xi = 0; xi < Points; xi++) u[xi * perPoint + at] = (float)gg[xi];
            }
        }

        return u;
    }

    // G, 6 x 3: the kernel's transform for the points 0, 1, -1, 2, -2 and infinity.
    private static readonly double[] G =
    [
        1.0 / 4, 0, 0,
        -1.0 / 6, -1.0 / 6, -1.0 / 6,
        -1.0 / 6, 1.0 / 6, -1.0 / 6,
        1.0 / 24, 1.0 / 12, 1.0 / 6,
        1.0 / 24, -1.0 / 12, 1.0 / 6,
        0, 0, 1,
    ];

    /// <summary>u = G g G^T, g 3 x 3 row-major, u 6 x 6 row-major.</summary>
    private static void KernelTransform(ReadOnlySpan<double> g, Span<double> u)
    {
        Span<double> gRows = stackalloc double[18]; // G g: 6 x 3
        for (int r = 0; r < Alpha; r++)
        {
            for (int j = 0; j < 3; j++) gRows[r * 3 + j] = G[r * 3] * g[j] + G[r * 3 + 1] * g[3 + j] + G[r * 3 + 2] * g[6 + j];
        }

        for (int r = 0; r < Alpha; r++)
        {
            for (int s = 0; s < Alpha; s++) u[r * Alpha + s] = gRows[r * 3] * G[s * 3] + gRows[r * 3 + 1] * G[s * 3 + 1] + gRows[r * 3 + 2] * G[s * 3 + 2];
        }
    }

    /// <summary>B^T d for one column of six: t = B^T d. The vector path runs these same operations lane by lane.</summary>
    public static void InputColumn(float d0, float d1, float d2, float d3, float d4, float d5,
        out float t0, out float t1, out float t2, out float t3, out float t4, out float t5)
    {
        t0 = MathF.FusedMultiplyAdd(4, d0, MathF.FusedMultiplyAdd(-5, d2, d4));
        t5 = MathF.FusedMultiplyAdd(4, d1, MathF.FusedMultiplyAdd(-5, d3, d5));
        float a = MathF.FusedMultiplyAdd(-4, d2, d4), b = MathF.FusedMultiplyAdd(-4, d1, d3);
        t1 = a + b;
        t2 = a - b;
        float c = d4 - d2, e = 2 * (d3 - d1);
        t3 = c + e;
        t4 = c - e;
    }

    /// <summary>A^T m for one column of six: four outputs.</summary>
    public static void OutputColumn(float m0, float m1, float m2, float m3, float m4, float m5, out float y0, out float y1, out float y2, out float y3)
    {
        float p = m1 + m2, q = m1 - m2, r = m3 + m4, s = m3 - m4;
        y0 = m0 + p + r;
        y1 = MathF.FusedMultiplyAdd(2, s, q);
        y2 = MathF.FusedMultiplyAdd(4, r, p);
        y3 = MathF.FusedMultiplyAdd(8, s, q) + m5;
    }

    /// <summary>V = B^T d B for the 6 x 6 input tile at <paramref name="d"/> (rows <paramref name="stride"/> apart), into v
    /// (36, row-major by rho then sigma): the columns first (B^T down each column), then the rows.</summary>
    public static void InputTile(float* d, nint stride, float* v)
    {
        float* t = stackalloc float[Points];
        for (int x = 0; x < Alpha; x++)
        {
            InputColumn(d[x], d[stride + x], d[2 * stride + x], d[3 * stride + x], d[4 * stride + x], d[5 * stride + x],
                out t[x], out t[Alpha + x], out t[2 * Alpha + x], out t[3 * Alpha + x], out t[4 * Alpha + x], out t[5 * Alpha + x]);
        }

        for (int r = 0; r < Alpha; r++)
        {
            float* row = t + r * Alpha;
            InputColumn(row[0], row[1], row[2], row[3], row[4], row[5],
                out v[r * Alpha], out v[r * Alpha + 1], out v[r * Alpha + 2], out v[r * Alpha + 3], out v[r * Alpha + 4], out v[r * Alpha + 5]);
        }
    }

    /// <summary>Y = A^T M A for the transformed tile m (36, by rho then sigma) into y (16, row-major): the columns first, then
    /// the rows; then the bias and the ReLU.</summary>
    public static void OutputTile(float* m, float bias, bool relu, float* y)
    {
        float* z = stackalloc float[Tile * Alpha]; // A^T M: 4 x 6
        for (int s = 0; s < Alpha; s++)
        {
            OutputColumn(m[s], m[Alpha + s], m[2 * Alpha + s], m[3 * Alpha + s], m[4 * Alpha + s], m[5 * Alpha + s],
                out z[s], out z[Alpha + s], out z[2 * Alpha + s], out z[3 * Alpha + s]);
        }

        for (int i = 0; i < Tile; i++)
        {
            float* row = z + i * Alpha;
            OutputColumn(row[0], row[1], row[2], row[3], row[4], row[5], out y[i * Tile], out y[i * Tile + 1], out y[i * Tile + 2], out y[i * Tile + 3]);
            for (int j = 0; j < Tile; j++)
            {
                float v = y[i * Tile + j] + bias;
                y[i * Tile + j] = relu ? Math.Max(v, 0) : v;
            }
        }
    }
}
