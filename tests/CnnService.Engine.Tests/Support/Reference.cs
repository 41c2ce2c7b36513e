using CnnService.Engine.Runtime;

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

    /// <summary>
    /// Pooling with [top, left, bottom, right] padding, cell by cell: max over the window's cells inside the
    /// input; the average divides by those cells, or with <paramref name="includePad"/> by the window's cells
    /// inside the padded input (PyTorch's avg_pool2d and ONNX Runtime's divisor; a window that ceil_mode runs
    /// past the padding counts only up to the padding's edge). The caller gives the output size.
    /// </summary>
    public static float[] Pool(float[] x, int n, int c, int h, int w, int kh, int kw, int sh, int sw, int top, int left, int bottom, int right,
        int oh, int ow, bool max, bool includePad)
    {
        var y = new float[n * c * oh * ow];
        for (int plane = 0; plane < n * c; plane++)
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        {
            double acc = max ? double.NegativeInfinity : 0;
            int inside = 0, insidePadded = 0;
            for (int ki = 0; ki < kh; ki++)
            for (int kj = 0; kj < kw; kj++)
            {
                int iy = oy * sh - top + ki, ix = ox * sw - left + kj;
                if (iy >= -top && iy < h + bottom && ix >= -left && ix < w + right) insidePadded++;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                double v = x[(plane * h + iy) * w + ix];
                acc = max ? Math.Max(acc, v) : acc + v;
                inside++;
            }

            y[(plane * oh + oy) * ow + ox] = (float)(max ? acc : acc / (includePad ? insidePadded : inside));
        }

        return y;
    }

    /// <summary>PyTorch's pooling_output_shape: floor, or with ceil_mode ceil, dropping a last window that would start past the input.</summary>
    public static int PoolOutput(int size, int kernel, int stride, int before, int after, bool ceilMode)
    {
        double windows = (double)(size + before + after - kernel) / stride;
        int count = (int)(ceilMode ? Math.Ceiling(windows) : Math.Floor(windows)) + 1;
        if (ceilMode && (count - 1) * stride >= size + before) count--;
        return count;
    }

    /// <summary>Each plane padded cell by cell: "constant" fills <paramref name="value"/>, "reflect" mirrors without the edge, "edge" repeats it.</summary>
    public static float[] Pad(float[] x, int n, int c, int h, int w, int top, int left, int bottom, int right, string mode, float value)
    {
        int hp = h + top + bottom, wp = w + left + right;
        var y = new float[n * c * hp * wp];
        for (int plane = 0; plane < n * c; plane++)
        for (int py = 0; py < hp; py++)
        for (int px = 0; px < wp; px++)
        {
            int iy = py - top, ix = px - left;
            bool outside = iy < 0 || iy >= h || ix < 0 || ix >= w;
            float v;
            if (outside && mode == "constant") v = value;
            else if (mode == "reflect") v = x[(plane * h + Mirror(iy, h)) * w + Mirror(ix, w)];
            else v = x[(plane * h + Math.Clamp(iy, 0, h - 1)) * w + Math.Clamp(ix, 0, w - 1)];
            y[(plane * hp + py) * wp + px] = v;
        }

        return y;
    }

    /// <summary>[N, C, H, W] reshaped to [N, g, C/g, H*W], axes 1 and 2 swapped, and read back as [N, C, H, W].</summary>
    public static float[] ChannelShuffle(float[] x, int n, int c, int plane, int groups)
    {
        int perGroup = c / groups;
        var y = new float[x.Length];
        for (int b = 0; b < n; b++)
        for (int g = 0; g < groups; g++)
        for (int j = 0; j < perGroup; j++)
        for (int p = 0; p < plane; p++)
            y[((b * perGroup + j) * groups + g) * plane + p] = x[((b * groups + g) * perGroup + j) * plane + p];
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

    /// <summary>numpy broadcasting of one op over n items: each output index reads index 0 of every
    /// dimension in which an operand is 1. A constant operand (perItem false) is the same for every item.</summary>
    public static float[] Broadcast(float[] a, TensorShape sa, bool aPerItem, float[] b, TensorShape sb, bool bPerItem, int n, Func<double, double, double> f)
    {
        var so = new TensorShape(Math.Max(sa.C, sb.C), Math.Max(sa.H, sb.H), Math.Max(sa.W, sb.W));
        var y = new float[n * so.Size];
        for (int i = 0; i < n; i++)
        for (int c = 0; c < so.C; c++)
        for (int h = 0; h < so.H; h++)
        for (int w = 0; w < so.W; w++)
        {
            double x = a[(aPerItem ? i * sa.Size : 0) + Index(sa, c, h, w)], z = b[(bPerItem ? i * sb.Size : 0) + Index(sb, c, h, w)];
            y[i * so.Size + (c * so.H + h) * so.W + w] = (float)f(x, z);
        }

        return y;

        static int Index(TensorShape s, int c, int h, int w) => ((s.C == 1 ? 0 : c) * s.H + (s.H == 1 ? 0 : h)) * s.W + (s.W == 1 ? 0 : w);
    }

    /// <summary>Channels [start, end) of each of n items.</summary>
    public static float[] SliceChannels(float[] x, int n, TensorShape s, int start, int end)
    {
        int plane = s.H * s.W, size = (end - start) * plane;
        var y = new float[n * size];
        for (int i = 0; i < n; i++) Array.Copy(x, i * s.Size + start * plane, y, i * size, size);
        return y;
    }

    /// <summary>Each item's parts one after the other: concatenation along channels.</summary>
    public static float[] Concat(int n, params (float[] X, int Size)[] parts)
    {
        int total = parts.Sum(p => p.Size);
        var y = new float[n * total];
        for (int i = 0; i < n; i++)
        {
            int at = i * total;
            foreach (var (x, size) in parts)
            {
                Array.Copy(x, i * size, y, at, size);
                at += size;
            }
        }

        return y;
    }

    private static int Mirror(int i, int n) => i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
}
