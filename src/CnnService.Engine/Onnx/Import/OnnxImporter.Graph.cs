using System.Text.Json.Nodes;

namespace CnnService.Engine.Onnx.Import;

/// <summary>The nodes that join, split and re-view tensors: arithmetic with broadcasting, Concat, Split, Reshape.</summary>
public sealed partial class OnnxImporter
{
    private void ImportBinary()
    {
        string type = _node.OpType.ToLowerInvariant();
        ImportValue a = Input(0), b = Input(1);
        if (a is DynamicValue x && b is DynamicValue y)
        {
            x = Dynamic(0);
            y = Dynamic(1);
            if (x.Rank != y.Rank) throw Unsupported($"{_node.OpType} of {Show(x.Dims)} and {Show(y.Dims)} (ranks differ)");
            AddLayer(type, Broadcast(x.Dims, y.Dims), x, y);
            return;
        }

        bool constantFirst = a is ConstantValue;
        DynamicValue dyn = Dynamic(constantFirst ? 1 : 0);
        ConstantValue c = Const(constantFirst ? 0 : 1, "the constant operand");
        if (c.Dims.Length > dyn.Rank) throw Unsupported($"{_node.OpType} of {Show(dyn.Dims)} with a constant {Show(c.Dims)} of higher rank");

        // A bias added to a MatMul's output is that dense layer's bias.
        if (type == "add" && FoldBiasIntoDense(dyn, c)) return;

        // ONNX broadcasting aligns the trailing dims; the constant must not vary over the batch.
        var aligned = new long[dyn.Rank];
        for (int i = 0; i < dyn.Rank; i++)
        {
            int j = i - (dyn.Rank - c.Dims.Length);
            aligned[i] = j >= 0 ? c.Dims[j] : 1;
        }

        if (aligned[0] != 1) throw Unsupported($"a constant {Show(c.Dims)} that varies over the batch");
        aligned[0] = DynamicValue.Batch;
        long[] output = Broadcast(dyn.Dims, aligned);
        int[] shape = PerImage(aligned);
        PendingLayer layer = AddLayer(type, output, dyn);
        layer.Extra["constant_shape"] = new JsonArray(shape[0], shape[1], shape[2]);
        if (constantFirst && type is "sub" or "div") layer.Extra["constant_first"] = true;
        AddTensor(layer, "value", shape, c.AsFloats());
    }

    private bool FoldBiasIntoDense(DynamicValue dyn, ConstantValue c)
    {
        if (!_layerByName.TryGetValue(dyn.Source, out PendingLayer? dense) || dense.Type != "dense" || dense.UseBias || dyn.Rank != 2) return false;
        if (c.Count != dense.Units || _readers.GetValueOrDefault(_node.Inputs[_values[_node.Inputs[0]] == dyn ? 0 : 1]) != 1) return false;
        dense.UseBias = true;
        AddTensor(dense, "bias", [dense.Units!.Value], c.AsFloats());
        SetOutput(dyn);
        return true;
    }

    private long[] Broadcast(long[] a, long[] b)
    {
        var result = new long[a.Length];
        for (int i = 0; i < a.Length; i++)
        {
            result[i] = a[i] == b[i] || b[i] == 1 ? a[i] : a[i] == 1 ? b[i]
                : throw Fail($"shapes {Show(a)} and {Show(b)} do not broadcast.");
        }

        return result;
    }

    private void ImportConcat()
    {
        var parts = Enumerable.Range(0, _node.Inputs.Count).Select(Dynamic).ToArray();
        int rank = parts[0].Rank;
        long axis = Axis(_node.GetInt("axis", 1), rank);
        if (axis != 1 || parts.Any(p => p.Rank != rank || !p.Dims.Skip(2).SequenceEqual(parts[0].Dims.Skip(2))))
            throw Unsupported($"Concat along axis {axis} of {string.Join(", ", parts.Select(p => Show(p.Dims)))} (along the channels is)");
        long[] dims = (long[])parts[0].Dims.Clone();
        dims[1] = parts.Sum(p => p.Dims[1]);
        AddLayer("concat", dims, parts);
    }

    private void ImportSliceChannels()
    {
        DynamicValue x = Dynamic(0);
        (long start, long end, long step) = SliceRange(x.Dims[1], expectedAxis: 1, rank: x.Rank);
        if (step != 1) throw Unsupported("Slice with a step other than 1");
        SliceChannels(x, start, Math.Max(start, end), 0);
    }

    private void ImportSplit()
    {
        DynamicValue x = Dynamic(0);
        if (Axis(_node.GetInt("axis", 0), x.Rank) != 1) throw Unsupported("Split along an axis other than the channels");
        long[]? sizes = _opset >= 13 ? (HasInput(1) ? Const(1, "split").AsInts() : null) : _node.GetInts("split");
        int outputs = _node.Outputs.Count;
        if (sizes is null)
        {
            long each = (x.Dims[1] + outputs - 1) / outputs;
            sizes = Enumerable.Range(0, outputs).Select(i => Math.Min(each, x.Dims[1] - i * each)).ToArray();
        }

        if (sizes.Length != outputs || sizes.Any(s => s < 1) || sizes.Sum() != x.Dims[1])
            throw Fail($"split sizes [{string.Join(", ", sizes)}] do not divide {x.Dims[1]} channels into {outputs} outputs.");
        long start = 0;
        for (int i = 0; i < outputs; i++)
        {
            if (OutputUsed(i)) SliceChannels(x, start, start + sizes[i], i);
            start += sizes[i];
        }
    }

    private void SliceChannels(DynamicValue x, long start, long end, int output)
    {
        long[] dims = (long[])x.Dims.Clone();
        dims[1] = end - start;
        if (dims[1] < 1) throw Fail("the slice is empty.");
        var layer = new PendingLayer("slice_channels", UniqueName(), [x.Source]);
        layer.Extra["start"] = start;
        layer.Extra["end"] = end;
        _layers.Add(layer);
        _layerByName[layer.Name] = layer;
        SetOutput(new DynamicValue(layer.Name, dims), output);
    }

    private void ImportFlatten()
    {
        DynamicValue x = Dynamic(0);
        long axis = _node.GetInt("axis", 1);
        if (axis != 1) throw Unsupported($"Flatten at axis {axis} (at axis 1, keeping the batch, is)");
        long size = x.Dims.Skip(1).Aggregate(1L, (p, d) => p * d);
        if (x.Rank == 2) SetOutput(x);
        else AddLayer("flatten", [DynamicValue.Batch, size], x);
    }

    private void ImportReshape()
    {
        if (_node.GetInt("allowzero", 0) != 0) throw Unsupported("Reshape with allowzero");
        if (Input(0) is ConstantValue constant)
        {
            SetOutput(constant with { Dims = ReshapeConstant(constant, Const(1, "the shape").AsInts()) });
            return;
        }

        var x = (DynamicValue)Input(0);
        long[] target = Const(1, "the shape").AsInts();
        long[] dims = ResolveReshape(x.Dims, target);
        switch (x.Shuffle)
        {
            case ShuffleStage.None when dims.Length == 5 && x.Rank == 4 && dims[1] * dims[2] == x.Dims[1] && dims[3] == x.Dims[2] && dims[4] == x.Dims[3]:
                SetOutput(x with { Dims = dims, Shuffle = ShuffleStage.Split, ShuffleGroups = dims[1] });
                return;
            case ShuffleStage.Transposed when dims.Length == 4 && dims[1] == x.Dims[1] * x.Dims[2]:
                var source = new DynamicValue(x.Source, [DynamicValue.Batch, dims[1], dims[2], dims[3]]);
                PendingLayer shuffle = AddLayer("channel_shuffle", source.Dims, source);
                shuffle.Extra["groups"] = x.ShuffleGroups;
                return;
            case ShuffleStage.None when dims.Length <= 4:
                break;
            default:
                throw Unsupported($"Reshape of {Show(x.Dims)} to {Show(dims)}");
        }

        int[] from = PerImage(x.Dims), to = PerImage(dims);
        if (from.SequenceEqual(to)) SetOutput(x with { Dims = dims });
        else if (dims.Length == 2) AddLayer("flatten", dims, x);
        else AddLayer("reshape", dims, x).Extra["shape"] = new JsonArray(dims.Skip(1).Select(d => (JsonNode?)d).ToArray());
    }

    /// <summary>ONNX's Reshape rules (0 copies a dim, -1 is inferred), with the batch kept first and free.</summary>
    private long[] ResolveReshape(long[] input, long[] target)
    {
        long perImage = input.Skip(1).Aggregate(1L, (p, d) => p * d);
        var dims = new long[target.Length];
        int infer = -1;
        for (int i = 0; i < target.Length; i++)
        {
            long t = target[i];
            dims[i] = t == 0 && i < input.Length ? input[i] : t;
            if (dims[i] == -1)
            {
                if (infer >= 0) throw Fail($"the shape {Show(target)} has two -1 entries.");
                infer = i;
            }
            else if (dims[i] < 1 && dims[i] != DynamicValue.Batch)
            {
                throw Fail($"the shape {Show(target)} has an invalid entry {dims[i]}.");
            }
        }

        if (dims.Length == 0) throw Unsupported("Reshape to a scalar");
        if (infer == 0 && dims.Skip(1).All(d => d > 0) && dims.Skip(1).Aggregate(1L, (p, d) => p * d) == perImage)
            dims[0] = DynamicValue.Batch; // [-1, K]: the batch is what is left
        if (dims[0] != DynamicValue.Batch)
            throw Unsupported($"Reshape to {Show(target)}, which fixes the batch size (write x.view(x.size(0), ...) or x.flatten(1))");
        if (dims.Skip(1).Contains(DynamicValue.Batch)) throw Unsupported($"Reshape to {Show(target)}, which moves the batch");
        if (infer > 0)
        {
            long known = dims.Skip(1).Where(d => d != -1).Aggregate(1L, (p, d) => p * d);
            if (known == 0 || perImage % known != 0) throw Fail($"cannot reshape {Show(input)} to {Show(target)}.");
            dims[infer] = perImage / known;
        }

        if (dims.Skip(1).Aggregate(1L, (p, d) => p * d) != perImage) throw Fail($"cannot reshape {Show(input)} to {Show(target)}.");
        return dims;
    }

    private long[] ReshapeConstant(ConstantValue c, long[] target)
    {
        var dims = target.Select((t, i) => t == 0 && i < c.Dims.Length ? c.Dims[i] : t).ToArray();
        int infer = Array.IndexOf(dims, -1L);
        if (infer >= 0)
        {
            long known = dims.Where(d => d != -1).Aggregate(1L, (p, d) => p * d);
            dims[infer] = known == 0 ? 0 : c.Count / known;
        }

        return dims.Aggregate(1L, (p, d) => p * d) == c.Count && dims.All(d => d >= 0) ? dims : throw Fail($"cannot reshape a constant {Show(c.Dims)} to {Show(target)}.");
    }

    private void ImportTranspose()
    {
        if (Input(0) is DynamicValue { Shuffle: ShuffleStage.Split } x && _node.GetInts("perm") is [0, 2, 1, 3, 4])
        {
            SetOutput(x with { Dims = [x.Dims[0], x.Dims[2], x.Dims[1], x.Dims[3], x.Dims[4]], Shuffle = ShuffleStage.Transposed });
            return;
        }

        throw Unsupported("Transpose (other than inside a channel shuffle)");
    }
}
