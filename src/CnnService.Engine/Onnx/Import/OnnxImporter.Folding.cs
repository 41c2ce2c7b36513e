namespace CnnService.Engine.Onnx.Import;

/// <summary>
/// The nodes that compute values known at import: shape arithmetic, constants and casts. PyTorch
/// writes <c>x.view(x.size(0), -1)</c> as Shape, Gather, Unsqueeze, Concat and Reshape; with C, H
/// and W known, all but the batch size folds to numbers here, and the batch stays a symbol.
/// </summary>
public sealed partial class OnnxImporter
{
    /// <summary>The most elements a folded value may have: shape chains are tiny; anything large is a mistake.</summary>
    private const long MaxFoldedElements = 1 << 24;

    private void ImportConstant()
    {
        if (_node.GetTensor("value") is { } t) SetOutput(Constant(t, Where));
        else if (_node.Attributes.ContainsKey("value_float")) SetOutput(ConstantValue.Of([], [_node.GetFloat("value_float", 0)]));
        else if (_node.GetFloats("value_floats") is { } fs) SetOutput(ConstantValue.Of([fs.Length], fs));
        else if (_node.Attributes.ContainsKey("value_int")) SetOutput(ConstantValue.Of([], [_node.GetInt("value_int", 0)]));
        else if (_node.GetInts("value_ints") is { } ls) SetOutput(ConstantValue.Of([ls.Length], ls));
        else throw Unsupported("a Constant without a tensor, float or int value");
    }

    private void ImportShape()
    {
        long[] dims = Input(0) switch
        {
            DynamicValue d => d.Dims,
            ConstantValue c => c.Dims,
            _ => throw new InvalidOperationException(),
        };
        int rank = dims.Length;
        int Clamp(long v) => (int)Math.Clamp(v < 0 ? v + rank : v, 0, rank);
        int start = Clamp(_node.GetInt("start", 0)), end = Math.Max(start, Clamp(_node.GetInt("end", rank)));
        long[] slice = dims[start..end];
        SetOutput(ConstantValue.Of([slice.Length], slice));
    }

    private void ImportGather()
    {
        ConstantValue data = Const(0, "the data of Gather");
        ConstantValue indices = Const(1, "the indices of Gather");
        if (data.Dims.Length != 1 || _node.GetInt("axis", 0) is not (0 or -1))
            throw Unsupported($"Gather on a {data.Dims.Length}-D constant");
        long n = data.Count;
        long[] at = indices.AsInts().Select(i => i < 0 ? i + n : i).ToArray();
        if (at.Any(i => i < 0 || i >= n)) throw Fail($"a Gather index is outside 0..{n - 1}.");
        SetOutput(data.IsInteger
            ? ConstantValue.Of(indices.Dims, at.Select(i => data.Ints![i]).ToArray())
            : ConstantValue.Of(indices.Dims, at.Select(i => data.Floats![i]).ToArray()));
    }

    private void ImportUnsqueeze(bool squeeze)
    {
        long[]? axes = _opset >= 13 ? (HasInput(1) ? Const(1, "the axes").AsInts() : null) : _node.GetInts("axes");
        ImportValue input = Input(0);
        long[] dims = input is DynamicValue d ? d.Dims : ((ConstantValue)input).Dims;
        long[] result = squeeze ? Squeeze(dims, axes) : Unsqueeze(dims, axes ?? throw Fail("Unsqueeze needs axes."));
        switch (input)
        {
            case ConstantValue c:
                SetOutput(c with { Dims = result });
                break;
            case DynamicValue dyn:
                // The batch stays first and the per-image values keep their order: only the view changes.
                if (result.Length == 0 || result[0] != DynamicValue.Batch || result.Skip(1).Contains(DynamicValue.Batch) || result.Length > 4)
                    throw Unsupported($"{_node.OpType} of a computed tensor {Show(dims)} to {Show(result)}");
                SetOutput(dyn with { Dims = result });
                break;
        }
    }

    private long[] Squeeze(long[] dims, long[]? axes)
    {
        if (axes is null) return dims.Where(d => d != 1).ToArray();
        var drop = axes.Select(a => Axis(a, dims.Length)).ToHashSet();
        if (drop.Any(a => dims[a] != 1)) throw Fail($"Squeeze of an axis whose size is not 1 in {Show(dims)}.");
        return dims.Where((_, i) => !drop.Contains(i)).ToArray();
    }

    private long[] Unsqueeze(long[] dims, long[] axes)
    {
        int rank = dims.Length + axes.Length;
        var insert = axes.Select(a => Axis(a, rank)).ToHashSet();
        var result = new long[rank];
        for (int i = 0, j = 0; i < rank; i++) result[i] = insert.Contains(i) ? 1 : dims[j++];
        return result;
    }

    private void ImportConcatConstants()
    {
        var parts = Enumerable.Range(0, _node.Inputs.Count).Select(i => Const(i, "a part of Concat")).ToList();
        if (parts.Any(p => p.Dims.Length != 1)) throw Unsupported("Concat of constants that are not 1-D");
        SetOutput(parts.All(p => p.IsInteger)
            ? ConstantValue.Of([parts.Sum(p => p.Count)], parts.SelectMany(p => p.Ints!).ToArray())
            : ConstantValue.Of([parts.Sum(p => p.Count)], parts.SelectMany(p => p.AsFloats()).ToArray()));
    }

    private void ImportSliceConstant(ConstantValue data)
    {
        if (data.Dims.Length != 1) throw Unsupported("Slice of a constant that is not 1-D");
        (long start, long end, long step) = SliceRange(data.Count);
        if (step != 1) throw Unsupported("Slice with a step other than 1");
        int from = (int)start, to = (int)Math.Max(start, end);
        SetOutput(data.IsInteger ? ConstantValue.Of([to - from], data.Ints![from..to]) : ConstantValue.Of([to - from], data.Floats![from..to]));
    }

    /// <summary>The one axis's [start, end) of a Slice, clamped as ONNX says, for a dimension of <paramref name="size"/>.</summary>
    private (long Start, long End, long Step) SliceRange(long size, int expectedAxis = -1, int rank = 1)
    {
        long[] starts, ends, axes, steps;
        if (_opset < 10)
        {
            starts = _node.GetInts("starts") ?? throw Fail("Slice needs starts.");
            ends = _node.GetInts("ends") ?? throw Fail("Slice needs ends.");
            axes = _node.GetInts("axes") ?? [0];
            steps = [1];
        }
        else
        {
            starts = Const(1, "starts").AsInts();
            ends = Const(2, "ends").AsInts();
            axes = HasInput(3) ? Const(3, "axes").AsInts() : [0];
            steps = HasInput(4) ? Const(4, "steps").AsInts() : [1];
        }

        if (starts.Length != 1 || ends.Length != 1 || axes.Length != 1 || steps.Length != 1)
            throw Unsupported("Slice over several axes");
        if (expectedAxis >= 0 && Axis(axes[0], rank) != expectedAxis)
            throw Unsupported($"Slice along axis {axes[0]} of a computed tensor (only the channel axis is supported)");
        long Clamp(long v) => Math.Clamp(v < 0 ? v + size : v, 0, size);
        return (Clamp(starts[0]), Clamp(ends[0]), steps[0]);
    }

    private void ImportCast(ImportValue input)
    {
        var to = (OnnxDataType)_node.GetInt("to", 0);
        switch (input)
        {
            case DynamicValue d when to == OnnxDataType.Float:
                SetOutput(d);
                break;
            case DynamicValue:
                throw Unsupported($"Cast of a computed tensor to {OnnxDataTypes.Name(to)}");
            case ConstantValue c when to is OnnxDataType.Float or OnnxDataType.Double or OnnxDataType.Float16:
                SetOutput(ConstantValue.Of(c.Dims, c.AsFloats()));
                break;
            case ConstantValue c when to is OnnxDataType.Int64 or OnnxDataType.Int32:
                SetOutput(ConstantValue.Of(c.Dims, c.AsInts()));
                break;
            default:
                throw Unsupported($"Cast to {OnnxDataTypes.Name(to)}");
        }
    }

    /// <summary>Elementwise arithmetic on two constants: a scalar against a tensor, or two of one shape.</summary>
    private void FoldArithmetic(ConstantValue a, ConstantValue b)
    {
        if (a.Count != b.Count && a.Count != 1 && b.Count != 1)
            throw Unsupported($"{_node.OpType} of constants {Show(a.Dims)} and {Show(b.Dims)}");
        long[] dims = a.Count >= b.Count ? a.Dims : b.Dims;
        long count = Math.Max(a.Count, b.Count);
        if (count > MaxFoldedElements) throw Unsupported("folding a constant this large");
        if (a.IsInteger && b.IsInteger)
        {
            var result = new long[count];
            for (int i = 0; i < count; i++) result[i] = FoldInt(a.Ints![a.Count == 1 ? 0 : i], b.Ints![b.Count == 1 ? 0 : i]);
            SetOutput(ConstantValue.Of(dims, result));
            return;
        }

        float[] x = a.AsFloats(), y = b.AsFloats();
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            float p = x[x.Length == 1 ? 0 : i], q = y[y.Length == 1 ? 0 : i];
            values[i] = _node.OpType switch { "Add" => p + q, "Sub" => p - q, "Mul" => p * q, _ => p / q };
        }

        SetOutput(ConstantValue.Of(dims, values));
    }

    private long FoldInt(long p, long q)
    {
        // The batch size is a symbol: arithmetic on it is only defined where it leaves it unchanged.
        if (p == DynamicValue.Batch || q == DynamicValue.Batch)
        {
            long other = p == DynamicValue.Batch ? q : p;
            if (_node.OpType is "Mul" && other == 1 || _node.OpType is "Div" && q == 1 || _node.OpType is "Add" or "Sub" && other == 0 && q != DynamicValue.Batch)
                return DynamicValue.Batch;
            throw Unsupported("arithmetic on the batch size");
        }

        return _node.OpType switch
        {
            "Add" => p + q,
            "Sub" => p - q,
            "Mul" => p * q,
            _ => q == 0 ? throw Fail("division by zero in a constant.") : p / q,
        };
    }

    /// <summary>An axis as a non-negative index into <paramref name="rank"/> dimensions.</summary>
    private long Axis(long axis, int rank)
    {
        long a = axis < 0 ? axis + rank : axis;
        return a >= 0 && a < rank ? a : throw Fail($"axis {axis} is outside a {rank}-D tensor.");
    }
}
