using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Tests.Support;

/// <summary>
/// Runs a graph spec the plain way: every layer, in order, on fresh arrays, with the
/// <see cref="Reference"/> layers, each reading its inputs by name. No fusion, no shared buffers,
/// nothing in place: what the engine's plan must agree with. Knows the layers the graph tests use.
/// </summary>
internal static class GraphReference
{
    /// <summary>Every layer's output for <paramref name="n"/> items, indexed as spec.Layers.</summary>
    public static float[][] Run(ModelSpec spec, Dictionary<string, float[]> tensors, float[] x, int n)
    {
        var shape = new TensorShape(spec.Input.Channels, spec.Input.Height, spec.Input.Width);
        var byName = new Dictionary<string, int> { [LayerSpec.ModelInput] = 0 };
        var values = new List<float[]> { x };
        var shapes = new List<TensorShape> { shape };
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            LayerSpec l = spec.Layers[i];
            int[] ins = l.Inputs?.Select(name => byName[name]).ToArray() ?? [i];
            float[] a = values[ins[0]];
            TensorShape s = shapes[ins[0]];
            (float[] y, TensorShape o) = l.Type switch
            {
                "conv2d" => Conv(l, tensors, a, s, n),
                "dense" => (Reference.Dense(a, n, s.Size, tensors[l.Name + ".weight"], tensors[l.Name + ".bias"], l.Units!.Value), new TensorShape(l.Units!.Value, 1, 1)),
                "batchnorm" => (Reference.BatchNorm(a, n, s.C, s.H * s.W, tensors[l.Name + ".weight"], tensors[l.Name + ".bias"],
                    tensors[l.Name + ".running_mean"], tensors[l.Name + ".running_var"], l.Eps), s),
                "relu" => (Reference.Map(a, v => Math.Max(v, 0)), s),
                "sigmoid" => (Reference.Map(a, v => 1 / (1 + Math.Exp(-v))), s),
                "clip" => (Reference.Map(a, v => Math.Min(Math.Max(v, Bound(l, "min", double.NegativeInfinity)), Bound(l, "max", double.PositiveInfinity))), s),
                "hardsigmoid" => (Reference.Map(a, v => HardSigmoid(v, l.Alpha ?? 0.2, l.Beta ?? 0.5)), s),
                "hardswish" => (Reference.Map(a, v => v * HardSigmoid(v, 1.0 / 6, 0.5)), s),
                "maxpool2d" => Pool(l, a, s, n),
                "global_avgpool" => (Reference.GlobalAvgPool(a, n, s.C, s.H * s.W), new TensorShape(s.C, 1, 1)),
                "add" => Binary(a, s, values[ins[1]], shapes[ins[1]], n, (p, q) => p + q),
                "mul" => Binary(a, s, values[ins[1]], shapes[ins[1]], n, (p, q) => p * q),
                "concat" => (Reference.Concat(n, ins.Select(t => (values[t], shapes[t].Size)).ToArray()), new TensorShape(ins.Sum(t => shapes[t].C), s.H, s.W)),
                "softmax" => (Reference.Softmax(a, n, s.C, s.H * s.W), s),
                "dropout" => (a, s),
                "flatten" => (a, new TensorShape(s.Size, 1, 1)),
                _ => throw new NotSupportedException(l.Type),
            };
            values.Add(y);
            shapes.Add(o);
            if (l.Name is not null) byName[l.Name] = i + 1;
        }

        return values.Skip(1).ToArray();
    }

    private static double HardSigmoid(double v, double alpha, double beta) => Math.Max(0, Math.Min(1, alpha * v + beta));

    private static double Bound(LayerSpec l, string key, double none) => l.Extra?[key] is { } v ? double.Parse(v.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture) : none;

    private static (float[], TensorShape) Conv(LayerSpec l, Dictionary<string, float[]> tensors, float[] x, TensorShape s, int n)
    {
        (int kh, int kw) = (l.Kernel!.Value.H, l.Kernel!.Value.W);
        (int sh, int sw) = l.Stride is { } st ? (st.H, st.W) : (1, 1);
        // "same" at stride 1 with an odd kernel (all the graphs here use): half the kernel on each side.
        (int top, int left) = l.Padding.Kind == PaddingKind.Same && (sh, sw) == (1, 1) && kh % 2 == 1 && kw % 2 == 1
            ? ((kh - 1) / 2, (kw - 1) / 2)
            : l.Padding.Kind == PaddingKind.Same ? throw new NotSupportedException("same padding beyond stride 1, odd kernel") : (l.Padding.Top, l.Padding.Left);
        int oh = (s.H + 2 * top - kh) / sh + 1, ow = (s.W + 2 * left - kw) / sw + 1, m = l.Filters!.Value;
        int groups = l.Extra?["groups"]?.GetValue<int>() ?? 1;
        if (groups > 1)
            return (Reference.GroupedConv2D(x, n, s.C, s.H, s.W, tensors[l.Name + ".weight"], tensors.GetValueOrDefault(l.Name + ".bias"), m, groups, kh, kw, sh, sw, 1, 1, top, left, oh, ow), new TensorShape(m, oh, ow));
        float[] y = Reference.Conv2D(x, n, s.C, s.H, s.W, tensors[l.Name + ".weight"], tensors.GetValueOrDefault(l.Name + ".bias"), m, kh, kw, sh, sw, top, left, oh, ow, reflect: false);
        return (y, new TensorShape(m, oh, ow));
    }

    private static (float[], TensorShape) Pool(LayerSpec l, float[] x, TensorShape s, int n)
    {
        int k = l.Kernel!.Value.H, st = l.Stride?.H ?? k, p = l.Padding.Top;
        int oh = (s.H + 2 * p - k) / st + 1, ow = (s.W + 2 * p - k) / st + 1;
        return (Reference.Pool(x, n, s.C, s.H, s.W, k, k, st, st, p, p, oh, ow, max: true), new TensorShape(s.C, oh, ow));
    }

    private static (float[], TensorShape) Binary(float[] a, TensorShape sa, float[] b, TensorShape sb, int n, Func<double, double, double> f) =>
        (Reference.Broadcast(a, sa, true, b, sb, true, n, f), new TensorShape(Math.Max(sa.C, sb.C), Math.Max(sa.H, sb.H), Math.Max(sa.W, sb.W)));
}
