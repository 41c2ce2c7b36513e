using System.Text.Json.Nodes;
using CnnService.Engine.Format;

namespace CnnService.Engine.Onnx.Import;

/// <summary>One ONNX node at a time: folded if it computes a constant, otherwise a layer.</summary>
public sealed partial class OnnxImporter
{
    private void ImportNode(OnnxNode node)
    {
        bool allConstant = node.Inputs.Where(i => i.Length > 0).All(i => _values.GetValueOrDefault(i) is ConstantValue);
        switch (node.OpType)
        {
            case "Constant": ImportConstant(); break;
            case "Identity": SetOutput(Input(0)); break;
            case "Dropout":
                if (OutputUsed(1)) throw Unsupported("Dropout's mask output");
                SetOutput(Input(0));
                break;
            case "Shape": ImportShape(); break;
            case "Gather": ImportGather(); break;
            case "Unsqueeze": ImportUnsqueeze(squeeze: false); break;
            case "Squeeze": ImportUnsqueeze(squeeze: true); break;
            case "Cast": ImportCast(Input(0)); break;
            case "Concat" when allConstant: ImportConcatConstants(); break;
            case "Concat": ImportConcat(); break;
            case "Slice" when Input(0) is ConstantValue c: ImportSliceConstant(c); break;
            case "Slice": ImportSliceChannels(); break;
            case "Split": ImportSplit(); break;
            case "Add" or "Sub" or "Mul" or "Div" when allConstant: FoldArithmetic(Const(0, "A"), Const(1, "B")); break;
            case "Add" or "Sub" or "Mul" or "Div": ImportBinary(); break;
            case "Reshape": ImportReshape(); break;
            case "Transpose": ImportTranspose(); break;
            case "Flatten": ImportFlatten(); break;
            case "Conv": ImportConv(); break;
            case "Gemm": ImportGemm(); break;
            case "MatMul": ImportMatMul(); break;
            case "MaxPool" or "AveragePool": ImportPool(node.OpType == "MaxPool"); break;
            case "GlobalAveragePool": ImportGlobalAveragePool(); break;
            case "ReduceMean": ImportReduceMean(); break;
            case "BatchNormalization": ImportBatchNorm(); break;
            case "Relu": Unary("relu"); break;
            case "Sigmoid": Unary("sigmoid"); break;
            case "Tanh": Unary("tanh"); break;
            case "HardSwish": Unary("hardswish"); break;
            case "HardSigmoid":
                PendingLayer hs = Unary("hardsigmoid");
                hs.Alpha = node.GetFloat("alpha", 0.2f);
                hs.Beta = node.GetFloat("beta", 0.5f);
                break;
            case "Clip": ImportClip(); break;
            case "Softmax": ImportSoftmax(); break;
            case "LRN": ImportLrn(); break;
            case "Pad": ImportPad(); break;
            default: throw Unsupported($"op '{node.OpType}'");
        }
    }

    private PendingLayer Unary(string type)
    {
        DynamicValue x = Dynamic(0);
        return AddLayer(type, x.Dims, x);
    }

    /// <summary>A tensor's ONNX dims as the engine's per-image [C, H, W]: [N, K] is [K, 1, 1], [N, C, L] is [C, L, 1].</summary>
    private int[] PerImage(long[] dims)
    {
        if (dims.Length is < 2 or > 4 || dims[0] != DynamicValue.Batch)
            throw Unsupported($"a computed tensor of shape {Show(dims)}");
        var result = new int[] { 1, 1, 1 };
        for (int i = 1; i < dims.Length; i++) result[i - 1] = checked((int)dims[i]);
        return result;
    }

    private void ImportConv()
    {
        DynamicValue x = Dynamic(0);
        if (x.Rank != 4) throw Unsupported($"Conv on a {x.Rank}-D tensor (only 2-D images)");
        ConstantValue w = Const(1, "the weight");
        if (w.Dims.Length != 4) throw Fail($"the weight must be 4-D, got {Show(w.Dims)}.");
        long group = _node.GetInt("group", 1);
        int m = (int)w.Dims[0], cPerGroup = (int)w.Dims[1], kh = (int)w.Dims[2], kw = (int)w.Dims[3];
        if (group < 1 || x.Dims[1] != cPerGroup * group || m % group != 0)
            throw Fail($"weight {Show(w.Dims)} with group {group} does not fit input {Show(x.Dims)}.");
        if (_node.GetInts("kernel_shape") is { } ks && (ks.Length != 2 || ks[0] != kh || ks[1] != kw))
            throw Fail($"kernel_shape [{string.Join(", ", ks)}] disagrees with the weight {Show(w.Dims)}.");
        long[] dilations = Pair2("dilations", 1);
        (long[] strides, long[] pads) = Window(x.Dims, kh, kw, dilations, defaultStride: 1);
        (x, pads) = AbsorbZeroPad(x, pads);
        PendingLayer? reflect = ReflectPadBefore(x, pads);
        if (reflect is not null)
        {
            // PyTorch's padding_mode="reflect" (and cnn export) writes a reflect Pad and an unpadded Conv: one conv2d again.
            Padding p = reflect.Padding;
            pads = [p.Top, p.Left, p.Bottom, p.Right];
            x = new DynamicValue(reflect.Inputs[0], [x.Dims[0], x.Dims[1], x.Dims[2] - p.Top - p.Bottom, x.Dims[3] - p.Left - p.Right]);
            reflect.Removed = true;
        }

        long oh = Floor(x.Dims[2] + pads[0] + pads[2] - dilations[0] * (kh - 1) - 1, strides[0]) + 1;
        long ow = Floor(x.Dims[3] + pads[1] + pads[3] - dilations[1] * (kw - 1) - 1, strides[1]) + 1;
        if (oh < 1 || ow < 1) throw Fail($"the output would be empty ({oh}x{ow}).");

        PendingLayer conv = AddLayer("conv2d", [DynamicValue.Batch, m, oh, ow], x);
        conv.Filters = m;
        conv.Kernel = new Pair(kh, kw);
        conv.Stride = new Pair((int)strides[0], (int)strides[1]);
        conv.Padding = Padding.Sides((int)pads[0], (int)pads[1], (int)pads[2], (int)pads[3]);
        if (reflect is not null) conv.PaddingMode = "reflect";
        if (group != 1) conv.Extra["groups"] = group;
        if (dilations[0] != 1 || dilations[1] != 1) conv.Extra["dilation"] = new JsonArray(dilations[0], dilations[1]);
        AddTensor(conv, "weight", [m, cPerGroup, kh, kw], w.AsFloats());
        if (HasInput(2))
        {
            ConstantValue b = Const(2, "the bias");
            if (b.Count != m) throw Fail($"the bias has {b.Count} values for {m} filters.");
            AddTensor(conv, "bias", [m], b.AsFloats());
        }
        else
        {
            conv.UseBias = false;
        }
    }

    /// <summary>The reflect pad layer this Conv alone reads, when the Conv itself pads nothing; else null.</summary>
    private PendingLayer? ReflectPadBefore(DynamicValue x, long[] pads)
    {
        if (pads.Any(p => p != 0) || !_layerByName.TryGetValue(x.Source, out PendingLayer? pad) || pad.Type != "pad" || pad.Removed) return null;
        bool reflect = pad.Extra["mode"] is JsonValue mode && mode.TryGetValue(out string? m) && m == "reflect";
        return reflect && _readers.GetValueOrDefault(_node.Inputs[0]) == 1 ? pad : null;
    }

    private void ImportPool(bool max)
    {
        DynamicValue x = Dynamic(0);
        if (x.Rank != 4) throw Unsupported($"{_node.OpType} on a {x.Rank}-D tensor");
        if (max && OutputUsed(1)) throw Unsupported("MaxPool's indices output");
        long[] k = _node.GetInts("kernel_shape") ?? throw Fail("kernel_shape is missing.");
        if (k.Length != 2) throw Unsupported($"a {k.Length}-D kernel_shape");
        if (Pair2("dilations", 1) is [not 1, _] or [_, not 1]) throw Unsupported("pooling with dilations");
        (long[] strides, long[] pads) = Window(x.Dims, k[0], k[1], [1, 1], defaultStride: 1);
        bool ceil = _node.GetInt("ceil_mode", 0) != 0;
        bool countPad = _node.GetInt("count_include_pad", 0) != 0;
        if (!max && !ceil && (countPad || pads.All(p => p == 0)))
        {
            // Zeros padded before an average pool count in its mean: the pool's own padding, counted, is the same.
            long[] before = pads;
            (x, pads) = AbsorbZeroPad(x, pads);
            countPad |= !pads.SequenceEqual(before);
        }
        long oh = PoolSize(x.Dims[2], k[0], strides[0], pads[0], pads[2], ceil), ow = PoolSize(x.Dims[3], k[1], strides[1], pads[1], pads[3], ceil);
        PendingLayer pool = AddLayer(max ? "maxpool2d" : "avgpool2d", [DynamicValue.Batch, x.Dims[1], oh, ow], x);
        pool.Kernel = new Pair((int)k[0], (int)k[1]);
        pool.Stride = new Pair((int)strides[0], (int)strides[1]);
        pool.Padding = Padding.Sides((int)pads[0], (int)pads[1], (int)pads[2], (int)pads[3]);
        if (ceil) pool.Extra["ceil_mode"] = true;
        if (!max && pads.Any(p => p != 0)) pool.Extra["count_include_pad"] = countPad;
    }

    /// <summary>A zero Pad read only by this node becomes this node's own padding (one pass over the data instead of two).</summary>
    private (DynamicValue, long[]) AbsorbZeroPad(DynamicValue x, long[] pads)
    {
        if (SolePad(x) is not { } pad) return (x, pads);
        pad.Removed = true;
        Padding p = pad.Padding;
        return (pad.Sources[0], [pads[0] + p.Top, pads[1] + p.Left, pads[2] + p.Bottom, pads[3] + p.Right]);
    }

    private PendingLayer? SolePad(DynamicValue x) =>
        SoleProducer(x, "pad") is { } pad && pad.Extra["mode"] is null && pad.Extra["value"] is null ? pad : null;

    /// <summary>PyTorch's and ONNX Runtime's pooled size: in ceil mode the last window must start inside the input or the leading padding.</summary>
    private static long PoolSize(long size, long k, long s, long before, long after, bool ceil)
    {
        long span = size + before + after - k;
        long n = (ceil ? (span + s - 1) / s : span / s) + 1;
        if (ceil && (n - 1) * s >= size + before) n--;
        return n;
    }

    /// <summary>Strides and pads [top, left, bottom, right], with auto_pad SAME_UPPER/SAME_LOWER resolved for this input.</summary>
    private (long[] Strides, long[] Pads) Window(long[] dims, long kh, long kw, long[] dilations, long defaultStride)
    {
        long[] strides = Pair2("strides", defaultStride);
        if (strides.Any(s => s < 1)) throw Fail("strides must be positive.");
        string autoPad = _node.GetString("auto_pad", "NOTSET")!;
        long[] pads = _node.GetInts("pads") ?? [0, 0, 0, 0];
        if (pads.Length != 4 || pads.Any(p => p < 0 || p > 4096)) throw Fail($"pads must be 4 values from 0 to 4096, got [{string.Join(", ", pads)}].");
        switch (autoPad)
        {
            case "NOTSET": break;
            case "VALID": pads = [0, 0, 0, 0]; break;
            case "SAME_UPPER" or "SAME_LOWER":
                long[] k = [kh, kw];
                pads = new long[4];
                for (int axis = 0; axis < 2; axis++)
                {
                    long size = dims[2 + axis], output = (size + strides[axis] - 1) / strides[axis];
                    long total = Math.Max(0, (output - 1) * strides[axis] + (k[axis] - 1) * dilations[axis] + 1 - size);
                    long small = total / 2, large = total - small;
                    (pads[axis], pads[axis + 2]) = autoPad == "SAME_UPPER" ? (small, large) : (large, small);
                }

                break;
            default: throw Unsupported($"auto_pad \"{autoPad}\"");
        }

        return (strides, pads);
    }

    private long[] Pair2(string name, long fallback)
    {
        long[] values = _node.GetInts(name) ?? [fallback, fallback];
        if (values.Length != 2 || values.Any(v => v < 1 || v > 4096)) throw Fail($"{name} must be 2 values from 1 to 4096, got [{string.Join(", ", values)}].");
        return values;
    }

    private static long Floor(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    private void ImportGemm()
    {
        DynamicValue a = Dynamic(0);
        if (a.Rank != 2) throw Unsupported($"Gemm on a {a.Rank}-D input");
        if (_node.GetInt("transA", 0) != 0) throw Unsupported("Gemm with transA");
        ConstantValue b = Const(1, "B");
        if (b.Dims.Length != 2) throw Fail($"B must be 2-D, got {Show(b.Dims)}.");
        bool transB = _node.GetInt("transB", 0) != 0;
        long k = transB ? b.Dims[1] : b.Dims[0], units = transB ? b.Dims[0] : b.Dims[1];
        if (k != a.Dims[1]) throw Fail($"B {Show(b.Dims)} does not fit the input {Show(a.Dims)}.");
        float alpha = _node.GetFloat("alpha", 1f), beta = _node.GetFloat("beta", 1f);
        float[] weight = DenseWeight(b.AsFloats(), (int)k, (int)units, transB, alpha);
        PendingLayer dense = AddLayer("dense", [DynamicValue.Batch, units], a);
        dense.Units = (int)units;
        AddTensor(dense, "weight", [(int)units, (int)k], weight);
        if (HasInput(2) && beta != 0)
        {
            ConstantValue c = Const(2, "C");
            if (c.Count != units && c.Count != 1) throw Unsupported($"Gemm's C of shape {Show(c.Dims)} (a bias per output is supported)");
            float[] bias = c.AsFloats();
            AddTensor(dense, "bias", [(int)units], Enumerable.Range(0, (int)units).Select(i => beta * bias[bias.Length == 1 ? 0 : i]).ToArray());
        }
        else
        {
            dense.UseBias = false;
        }
    }

    private void ImportMatMul()
    {
        DynamicValue a = Dynamic(0);
        ConstantValue b = Const(1, "B");
        if (a.Rank != 2 || b.Dims.Length != 2 || b.Dims[0] != a.Dims[1])
            throw Unsupported($"MatMul of {Show(a.Dims)} by {Show(b.Dims)} (a [N, K] input times a constant [K, M] is)");
        int k = (int)b.Dims[0], units = (int)b.Dims[1];
        PendingLayer dense = AddLayer("dense", [DynamicValue.Batch, units], a);
        dense.Units = units;
        dense.UseBias = false;
        AddTensor(dense, "weight", [units, k], DenseWeight(b.AsFloats(), k, units, transposed: false, 1f));
    }

    /// <summary>The engine's dense weight, [units, k] as PyTorch's Linear keeps it, from B ([k, units], or [units, k] when transposed).</summary>
    private static float[] DenseWeight(float[] b, int k, int units, bool transposed, float alpha)
    {
        var w = new float[(long)units * k];
        for (int u = 0; u < units; u++)
            for (int i = 0; i < k; i++)
                w[(long)u * k + i] = alpha * (transposed ? b[(long)u * k + i] : b[(long)i * units + u]);
        return w;
    }

    private void ImportGlobalAveragePool()
    {
        DynamicValue x = Dynamic(0);
        if (x.Rank != 4) throw Unsupported($"GlobalAveragePool on a {x.Rank}-D tensor");
        AddLayer("global_avgpool", [DynamicValue.Batch, x.Dims[1], 1, 1], x);
    }

    private void ImportReduceMean()
    {
        DynamicValue x = Dynamic(0);
        long[]? axes = _opset >= 18 ? (HasInput(1) ? Const(1, "the axes").AsInts() : null) : _node.GetInts("axes");
        bool keep = _node.GetInt("keepdims", 1) != 0;
        var set = axes?.Select(a => Axis(a, x.Rank)).OrderBy(a => a).ToArray();
        if (x.Rank != 4 || set is not [2, 3])
            throw Unsupported($"ReduceMean over axes [{string.Join(", ", axes ?? [])}] of {Show(x.Dims)} (only the spatial mean, axes [2, 3], is)");
        AddLayer("global_avgpool", keep ? [DynamicValue.Batch, x.Dims[1], 1, 1] : [DynamicValue.Batch, x.Dims[1]], x);
    }

    private void ImportBatchNorm()
    {
        DynamicValue x = Dynamic(0);
        if (_node.GetInt("training_mode", 0) != 0 || OutputUsed(1) || OutputUsed(2)) throw Unsupported("BatchNormalization in training mode");
        int c = (int)x.Dims[1];
        float[] Take(int index, string what)
        {
            ConstantValue v = Const(index, what);
            return v.Count == c ? v.AsFloats() : throw Fail($"{what} has {v.Count} values for {c} channels.");
        }

        float[] scale = Take(1, "scale"), bias = Take(2, "B"), mean = Take(3, "mean"), variance = Take(4, "var");
        float eps = _node.GetFloat("epsilon", 1e-5f);
        if (SoleProducer(x, "conv2d") is { } conv)
        {
            FoldIntoConv(conv, scale, bias, mean, variance, eps);
            SetOutput(x);
            return;
        }

        PendingLayer bn = AddLayer("batchnorm", x.Dims, x);
        bn.Eps = eps;
        AddTensor(bn, "weight", [c], scale);
        AddTensor(bn, "bias", [c], bias);
        AddTensor(bn, "running_mean", [c], mean);
        AddTensor(bn, "running_var", [c], variance);
    }

    /// <summary>
    /// A batch norm after a convolution it alone reads is that convolution with scaled filters and a shifted bias:
    /// w' = w * s, b' = (b - mean) * s + beta with s = gamma / sqrt(var + eps), in double precision.
    /// </summary>
    private void FoldIntoConv(PendingLayer conv, float[] gamma, float[] beta, float[] mean, float[] variance, float eps)
    {
        // Copies: an initializer may be shared by several nodes (PyTorch shares equal constants).
        NamedTensor weight = FindTensor(conv, "weight")!;
        NamedTensor? oldBias = FindTensor(conv, "bias");
        int m = weight.Shape[0], per = weight.Data.Length / m;
        float[] w = (float[])weight.Data.Clone(), b = oldBias is null ? new float[m] : (float[])oldBias.Data.Clone();
        _tensors[_tensors.IndexOf(weight)] = weight with { Data = w };
        if (oldBias is not null) _tensors[_tensors.IndexOf(oldBias)] = oldBias with { Data = b };
        for (int i = 0; i < m; i++)
        {
            double s = gamma[i] / Math.Sqrt((double)variance[i] + eps);
            for (int j = 0; j < per; j++) w[(long)i * per + j] = (float)(w[(long)i * per + j] * s);
            b[i] = (float)((b[i] - mean[i]) * s + beta[i]);
        }

        if (!conv.UseBias)
        {
            conv.UseBias = true;
            AddTensor(conv, "bias", [m], b);
        }
    }

    private void ImportClip()
    {
        float min = float.NegativeInfinity, max = float.PositiveInfinity;
        if (_opset < 11)
        {
            min = _node.GetFloat("min", min);
            max = _node.GetFloat("max", max);
        }
        else
        {
            if (HasInput(1)) min = Scalar(Const(1, "min"), "min");
            if (HasInput(2)) max = Scalar(Const(2, "max"), "max");
        }

        // Clip(0, inf) is ReLU, which runs inside the conv before it.
        if (min == 0 && float.IsPositiveInfinity(max))
        {
            Unary("relu");
            return;
        }

        PendingLayer clip = Unary("clip");
        if (float.IsFinite(min)) clip.Extra["min"] = min;
        if (float.IsFinite(max)) clip.Extra["max"] = max;
    }

    private float Scalar(ConstantValue v, string what) => v.Count == 1 ? v.AsFloats()[0] : throw Fail($"{what} must be a scalar, got {Show(v.Dims)}.");

    private void ImportSoftmax()
    {
        DynamicValue x = Dynamic(0);
        long axis = Axis(_node.GetInt("axis", _opset >= 13 ? -1 : 1), x.Rank);
        int[] image = PerImage(x.Dims);
        bool flatVector = image[1] == 1 && image[2] == 1;
        // Before opset 13, axis 1 means over all of an image's values; from 13, over that one axis. The engine's
        // softmax is over the channels at each position: both agree for [N, K] and [N, C, 1, 1].
        bool channels = axis == 1 && (_opset >= 13 || flatVector);
        if (!channels && !(flatVector && axis == x.Rank - 1 && x.Rank == 2))
            throw Unsupported($"Softmax over axis {_node.GetInt("axis", _opset >= 13 ? -1 : 1)} of {Show(x.Dims)} (over the classes of [N, K] is)");
        AddLayer("softmax", x.Dims, x);
    }

    private void ImportLrn()
    {
        PendingLayer lrn = Unary("lrn");
        lrn.Size = (int)_node.GetInt("size", 0);
        if (lrn.Size < 1) throw Fail("size must be positive.");
        lrn.Alpha = _node.GetFloat("alpha", 1e-4f);
        lrn.Beta = _node.GetFloat("beta", 0.75f);
        lrn.K = _node.GetFloat("bias", 1f);
    }

    private void ImportPad()
    {
        DynamicValue x = Dynamic(0);
        string mode = _node.GetString("mode", "constant")!;
        long[] pads;
        float value = 0;
        if (_opset < 11)
        {
            pads = _node.GetInts("pads") ?? throw Fail("pads is missing.");
            value = _node.GetFloat("value", 0);
        }
        else
        {
            pads = Const(1, "pads").AsInts();
            if (HasInput(2)) value = Scalar(Const(2, "constant_value"), "constant_value");
            if (HasInput(3)) throw Unsupported("Pad with axes");
        }

        if (x.Rank != 4 || pads.Length != 8 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0 || pads.Any(p => p < 0 || p > 4096))
            throw Unsupported($"Pad [{string.Join(", ", pads)}] of {Show(x.Dims)} (non-negative padding of height and width is)");
        if (mode is not ("constant" or "reflect" or "edge")) throw Unsupported($"Pad mode \"{mode}\"");
        if (pads.All(p => p == 0))
        {
            SetOutput(x);
            return;
        }

        PendingLayer pad = AddLayer("pad", [DynamicValue.Batch, x.Dims[1], x.Dims[2] + pads[2] + pads[6], x.Dims[3] + pads[3] + pads[7]], x);
        pad.Padding = Padding.Sides((int)pads[2], (int)pads[3], (int)pads[6], (int)pads[7]);
        if (mode != "constant") pad.Extra["mode"] = mode;
        if (value != 0) pad.Extra["value"] = value;
    }
}
