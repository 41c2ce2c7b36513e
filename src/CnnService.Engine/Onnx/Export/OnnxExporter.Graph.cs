using System.Text.Json.Nodes;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Onnx.Export;

/// <summary>The graph layers (arithmetic, concat, slices, clips, padding, shuffles, reshapes), per the settings model.json gives them.</summary>
public sealed partial class OnnxExporter
{
    private Value Arithmetic(LayerSpec layer, string name, Value[] inputs)
    {
        string op = layer.Type switch { "add" => "Add", "sub" => "Sub", "mul" => "Mul", _ => "Div" };
        if (inputs.Length == 2)
        {
            // ONNX broadcasts by trailing dims: both operands at the same rank make that the engine's per-(C, H, W) rule.
            (Value a, Value b) = (inputs[0], inputs[1]);
            if (a.Rank != b.Rank) (a, b) = (As4D(a, $"{name}_a"), As4D(b, $"{name}_b"));
            return Broadcast(Node(op, name, [a.Name, b.Name]), a, b);
        }

        Value x = inputs[0];
        int[] shape = Attributes(layer).Ints("constant_shape", 1, int.MaxValue) ?? throw Refuse("\"constant_shape\" is missing.");
        var c = new TensorShape(shape[0], shape.Length > 1 ? shape[1] : 1, shape.Length > 2 ? shape[2] : 1);
        bool flat = x.Rank == 2 && c.H == 1 && c.W == 1;
        if (!flat) x = As4D(x, name);
        (int[] stored, float[] data) = _weights.Get($"{layer.Name}.value");
        if (stored.Aggregate(1L, (p, d) => p * d) != (long)c.Size) throw Refuse($"\"{layer.Name}.value\" does not hold {c} values.");
        string constant = Floats($"{name}.value", flat ? [1, c.C] : [1, c.C, c.H, c.W], data);
        bool first = Attributes(layer).Bool("constant_first", false);
        string output = Node(op, name, first ? [constant, x.Name] : [x.Name, constant]);
        return Broadcast(output, x, new Value(constant, x.Rank, c));
    }

    private static Value Broadcast(string output, Value a, Value b) =>
        new(output, a.Rank, new TensorShape(Math.Max(a.Shape.C, b.Shape.C), Math.Max(a.Shape.H, b.Shape.H), Math.Max(a.Shape.W, b.Shape.W)));

    private Value Concat(string name, Value[] inputs)
    {
        bool sameRank = inputs.All(v => v.Rank == inputs[0].Rank);
        var parts = inputs.Select((v, k) => sameRank ? v : As4D(v, $"{name}_{k}")).ToArray();
        string output = Node("Concat", name, parts.Select(p => p.Name).ToArray(), OnnxAttribute.Of("axis", 1L));
        return new Value(output, parts[0].Rank, parts[0].Shape with { C = parts.Sum(p => p.Shape.C) });
    }

    private Value SliceChannels(LayerSpec layer, string name, Value x)
    {
        LayerAttributes a = Attributes(layer);
        int start = a.Int("start", 0, 0, int.MaxValue), end = a.Int("end", x.Shape.C, 0, int.MaxValue);
        string output = Node("Slice", name, [x.Name, Int64s($"{name}_starts", start), Int64s($"{name}_ends", end), Int64s($"{name}_axes", 1)]);
        return new Value(output, x.Rank, x.Shape with { C = end - start });
    }

    private Value Clip(LayerSpec layer, string name, Value x)
    {
        // From opset 11 the bounds are optional inputs: an empty name leaves min out.
        LayerAttributes a = Attributes(layer);
        var inputs = new List<string> { x.Name };
        bool hasMin = a.Has("min"), hasMax = a.Has("max");
        if (hasMin || hasMax) inputs.Add(hasMin ? Floats($"{name}_min", [], [a.Float("min", 0)]) : "");
        if (hasMax) inputs.Add(Floats($"{name}_max", [], [a.Float("max", 0)]));
        return Same(x, Node("Clip", name, inputs.ToArray()));
    }

    private string HardSigmoid(string name, Value x, float alpha, float beta) =>
        Node("HardSigmoid", name, [x.Name], OnnxAttribute.Of("alpha", alpha), OnnxAttribute.Of("beta", beta));

    private Value HardSwish(string name, Value x)
    {
        if (_opset >= 14) return Same(x, Node("HardSwish", name, [x.Name]));
        // HardSwish is new in opset 14: before it, x * HardSigmoid(x) with alpha 1/6 and beta 0.5, ONNX's own definition.
        string gate = HardSigmoid($"{name}_gate", x, 1f / 6f, 0.5f);
        return Same(x, Node("Mul", name, [x.Name, gate]));
    }

    private Value Pad(LayerSpec layer, string name, Value x)
    {
        LayerAttributes a = Attributes(layer);
        string mode = a.String("mode", "constant", "constant", "reflect", "edge");
        Padding p = layer.Padding;
        string output = PadNode(name, x.Name, [p.Top, p.Left, p.Bottom, p.Right], mode, a.Float("value", 0f));
        return Spatial(output, x.Shape.C, x.Shape.H + p.Top + p.Bottom, x.Shape.W + p.Left + p.Right);
    }

    /// <summary>A Pad node for [top, left, bottom, right] of an [N, C, H, W] tensor (opset 11+: pads and value are inputs).</summary>
    private string PadNode(string name, string input, long[] sides, string mode, float value)
    {
        string pads = Int64s($"{name}_pads", 0, 0, sides[0], sides[1], 0, 0, sides[2], sides[3]);
        var inputs = new List<string> { input, pads };
        if (mode == "constant" && value != 0) inputs.Add(Floats($"{name}_value", [], [value]));
        return Node("Pad", name, inputs.ToArray(), OnnxAttribute.Of("mode", mode));
    }

    private Value ChannelShuffle(LayerSpec layer, string name, Value x)
    {
        // [C, H, W] seen as [g, C/g, H, W], transposed to [C/g, g, H, W]: PyTorch's own export of ChannelShuffle.
        int g = Attributes(layer).Int("groups", 1, 1, int.MaxValue);
        (int c, int h, int w) = (x.Shape.C, x.Shape.H, x.Shape.W);
        string split = Node("Reshape", $"{name}_split", [x.Name, Int64s($"{name}_split_shape", 0, g, c / g, h, w)]);
        string swapped = Node("Transpose", $"{name}_transpose", [split], OnnxAttribute.Of("perm", new long[] { 0, 2, 1, 3, 4 }));
        return Spatial(Node("Reshape", name, [swapped, Int64s($"{name}_shape", 0, c, h, w)]), c, h, w);
    }

    private Value Reshape(LayerSpec layer, string name, Value x)
    {
        int[] shape = Attributes(layer).Ints("shape", 1, int.MaxValue) ?? throw Refuse("\"shape\" is missing.");
        if (shape.Length is < 1 or > 3) throw Refuse($"\"shape\" must have 1 to 3 values, got {shape.Length}.");
        long[] dims = new long[shape.Length + 1]; // 0 keeps the batch as it is
        for (int k = 0; k < shape.Length; k++) dims[k + 1] = shape[k];
        string output = Node("Reshape", name, [x.Name, Int64s($"{name}_shape", dims)]);
        return new Value(output, shape.Length + 1, new TensorShape(shape[0], shape.Length > 1 ? shape[1] : 1, shape.Length > 2 ? shape[2] : 1));
    }
}
