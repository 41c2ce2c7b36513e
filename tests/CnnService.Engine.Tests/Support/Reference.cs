namespace CnnService.Engine.Tests.Support;

/// <summary>
/// Plain, obviously-correct NCHW layers: a direct loop over every output and every input that
/// touches it, accumulated in double. Slow and clear; the engine is held to them.
/// </summary>
internal static class Reference
{
    public static float[] Conv2D(float[] x, int n, int c, int h, int w, float[] weight, float[]? bias, int m, int kh, int kw,
        int sh, int sw, int top, int left, int oh, int ow, bool reflect)
    {
        var y = new float[n * m * oh * ow];
        for (int b = 0; b < n; b++)
        for (int o = 0; o < m; o++)
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        {
            double sum = bias?[o] ?? 0;
            for (int ci = 0; ci < c; ci++)
            for (int ki = 0; ki < kh; ki++)
            for (int kj = 0; kj < kw; kj++)
            {
                int iy = oy * sh - top + ki, ix = ox * sw - left + kj;
                if (reflect)
                {
                    iy = Mirror(iy, h);
                    ix = Mirror(ix, w);
                }
                else if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                {
                    continue;
                }

                sum += (double)x[((b * c + ci) * h + iy) * w + ix] * weight[((o * c + ci) * kh + ki) * kw + kj];
            }

            y[((b * m + o) * oh + oy) * ow + ox] = (float)sum;
        }

        return y;
    }

    /// <summary>A convolution with groups and dilation, zero padding: output channel o of group g = o / (M/G) reads input
    /// channels [g*C/G, (g+1)*C/G) through weight [M][C/G][kh][kw]; tap (ki, kj) lands dh*ki, dw*kj from the window's corner.</summary>
    public static float[] GroupedConv2D(float[] x, int n, int c, int h, int w, float[] weight, float[]? bias, int m, int groups, int kh, int kw,
        int sh, int sw, int dh, int dw, int top, int left, int oh, int ow)
    {
        int cg = c / groups, mg = m / groups;
        var y = new float[n * m * oh * ow];
        for (int b = 0; b < n; b++)
        for (int o = 0; o < m; o++)
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        {
            double sum = bias?[o] ?? 0;
            int g = o / mg;
            for (int ci = 0; ci < cg; ci++)
            for (int ki = 0; ki < kh; ki++)
            for (int kj = 0; kj < kw; kj++)
            {
                int iy = oy * sh - top + ki * dh, ix = ox * sw - left + kj * dw;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                sum += (double)x[((b * c + g * cg + ci) * h + iy) * w + ix] * weight[((o * cg + ci) * kh + ki) * kw + kj];
            }

            y[((b * m + o) * oh + oy) * ow + ox] = (float)sum;
        }

        return y;
    }

    public static float[] Pool(float[] x, int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int oh, int ow, bool max)
    {
        var y = new float[n * c * oh * ow];
        for (int plane = 0; plane < n * c; plane++)
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        {
            double acc = max ? double.NegativeInfinity : 0;
            int count = 0;
            for (int ki = 0; ki < kh; ki++)
            for (int kj = 0; kj < kw; kj++)
            {
                int iy = oy * sh - ph + ki, ix = ox * sw - pw + kj;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                double v = x[(plane * h + iy) * w + ix];
                acc = max ? Math.Max(acc, v) : acc + v;
                count++;
            }

            y[(plane * oh + oy) * ow + ox] = (float)(max ? acc : acc / count);
        }

        return y;
    }

    public static float[] Dense(float[] x, int n, int k, float[] weight, float[]? bias, int m)
    {
        var y = new float[n * m];
        for (int b = 0; b < n; b++)
        for (int o = 0; o < m; o++)
        {
            double sum = bias?[o] ?? 0;
            for (int i = 0; i < k; i++) sum += (double)x[b * k + i] * weight[o * k + i];
            y[b * m + o] = (float)sum;
        }

        return y;
    }

    public static float[] Map(float[] x, Func<double, double> f) => x.Select(v => (float)f(v)).ToArray();

    public static float[] Softmax(float[] x, int n, int c, int plane)
    {
        var y = new float[x.Length];
        for (int b = 0; b < n; b++)
        for (int p = 0; p < plane; p++)
        {
            double max = double.NegativeInfinity, sum = 0;
            for (int i = 0; i < c; i++) max = Math.Max(max, x[(b * c + i) * plane + p]);
            for (int i = 0; i < c; i++) sum += Math.Exp(x[(b * c + i) * plane + p] - max);
            for (int i = 0; i < c; i++) y[(b * c + i) * plane + p] = (float)(Math.Exp(x[(b * c + i) * plane + p] - max) / sum);
        }

        return y;
    }

    public static float[] Lrn(float[] x, int n, int c, int plane, int size, double alpha, double beta, double k)
    {
        var y = new float[x.Length];
        for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++)
        for (int p = 0; p < plane; p++)
        {
            double sum = 0;
            for (int j = ch - size / 2; j <= ch + (size - 1) / 2; j++)
            {
                if (j < 0 || j >= c) continue;
                double a = x[(b * c + j) * plane + p];
                sum += a * a;
            }

            y[(b * c + ch) * plane + p] = (float)(x[(b * c + ch) * plane + p] / Math.Pow(k + alpha / size * sum, beta));
        }

        return y;
    }

    public static float[] BatchNorm(float[] x, int n, int c, int plane, float[] gamma, float[] beta, float[] mean, float[] variance, double eps)
    {
        var y = new float[x.Length];
        for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++)
        for (int p = 0; p < plane; p++)
        {
            int i = (b * c + ch) * plane + p;
            y[i] = (float)((x[i] - mean[ch]) / Math.Sqrt(variance[ch] + eps) * gamma[ch] + beta[ch]);
        }

        return y;
    }

    public static float[] GlobalAvgPool(float[] x, int n, int c, int plane)
    {
        var y = new float[n * c];
        for (int i = 0; i < n * c; i++) y[i] = (float)x.Skip(i * plane).Take(plane).Average(v => (double)v);
        return y;
    }

    private static int Mirror(int i, int n) => i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
}
