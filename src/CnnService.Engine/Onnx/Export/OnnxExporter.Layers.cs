using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Onnx.Export;

/// <summary>Each layer type of model.json as the ONNX node(s) computing the same values.</summary>
public sealed partial class OnnxExporter
{
    /// <summary>
    /// What avgpool2d divides by when the layer does not say: the engine's pooling kernel counts only
    /// the cells inside the input (PoolWindow), ONNX's count_include_pad=0.
    /// </summary>
    internal const bool AvgPoolCountsPaddingByDefault = false;

    private Value Layer(LayerSpec layer, string name, Value[] inputs)
    {
        Value x = inputs[0];
        return layer.Type switch
        {
            "conv2d" => Conv(layer, name, As4D(x, name)),
            "dense" => Dense(layer, name, AsFlat(x, name)),
            "relu" => Same(x, Node("Relu", name, [x.Name])),
            "sigmoid" => Same(x, Node("Sigmoid", name, [x.Name])),
            "tanh" => Same(x, Node("Tanh", name, [x.Name])),
            "maxpool2d" or "avgpool2d" => Pool(layer, name, As4D(x, name)),
            "global_avgpool" => Spatial(Node("GlobalAveragePool", name, [As4D(x, name).Name]), x.Shape.C, 1, 1),
            "flatten" => AsFlat(x, name),
            "dropout" => x, // inference: the identity, nothing to run
            "lrn" => Lrn(layer, name, As4D(x, name)),
            "batchnorm" => BatchNorm(layer, name, x),
            // The engine's softmax is over the channels at each position: axis 1, which from opset 13 means that one axis.
            "softmax" => Same(x, Node("Softmax", name, [x.Name], OnnxAttribute.Of("axis", 1L))),
            "add" or "sub" or "mul" or "div" => Arithmetic(layer, name, inputs),
            "concat" => Concat(name, inputs),
            "slice_channels" => SliceChannels(layer, name, x),
            "clip" => Clip(layer, name, x),
            "hardsigmoid" => Same(x, HardSigmoid(name, x, layer.Alpha ?? 0.2f, layer.Beta ?? 0.5f)),
            "hardswish" => HardSwish(name, x),
            "pad" => Pad(layer, name, As4D(x, name)),
            "channel_shuffle" => ChannelShuffle(layer, name, As4D(x, name)),
            "reshape" => Reshape(layer, name, x),
            _ => throw Refuse($"layer type \"{layer.Type}\" has no ONNX export."),
        };
    }

    private static Value Same(Value x, string output) => x with { Name = output };

    private static Value Spatial(string output, int c, int h, int w) => new(output, 4, new TensorShape(c, h, w));

    private LayerAttributes Attributes(LayerSpec layer) => new(layer, _where);

    // ---- convolution and dense ---------------------------------------------------------------

    private Value Conv(LayerSpec layer, string name, Value x)
    {
        LayerAttributes a = Attributes(layer);
        Pair kernel = layer.Kernel!.Value, stride = layer.Stride ?? new Pair(1, 1);
        Pair dilation = a.Pair("dilation", 1, 4096) ?? new Pair(1, 1);
        // The groups the engine runs, read off the kernel it took ([filters, C / groups, kh, kw]), not the key.
        int groups = x.Shape.C / _weights.Get($"{layer.Name}.weight").Shape[1];
        long[] pads = Pads(layer, kernel, stride, dilation);
        string input = x.Name;
        int h = x.Shape.H + (int)(pads[0] + pads[2]), w = x.Shape.W + (int)(pads[1] + pads[3]);
        if (layer.PaddingMode == "reflect" && pads.Any(p => p != 0))
        {
            // ONNX's Conv pads with zeros only: a reflect Pad node first, then a Conv without padding.
            input = PadNode($"{name}_pad", input, pads, "reflect", 0f);
            pads = [0, 0, 0, 0];
        }

        var inputs = new List<string> { input, Weight(layer, name, "weight") };
        if (layer.UseBias) inputs.Add(Weight(layer, name, "bias"));
        var attributes = new List<OnnxAttribute>
        {
            OnnxAttribute.Of("kernel_shape", new long[] { kernel.H, kernel.W }),
            OnnxAttribute.Of("strides", new long[] { stride.H, stride.W }),
            OnnxAttribute.Of("pads", pads),
        };
        if (dilation != new Pair(1, 1)) attributes.Add(OnnxAttribute.Of("dilations", new long[] { dilation.H, dilation.W }));
        if (groups != 1) attributes.Add(OnnxAttribute.Of("group", (long)groups));
        int oh = (h - dilation.H * (kernel.H - 1) - 1) / stride.H + 1, ow = (w - dilation.W * (kernel.W - 1) - 1) / stride.W + 1;
        return Spatial(Node("Conv", name, inputs.ToArray(), attributes.ToArray()), layer.Filters!.Value, oh, ow);
    }

    /// <summary>The padding as ONNX's pads [top, left, bottom, right], "same" and "valid" resolved as the engine resolves them.</summary>
    private static long[] Pads(LayerSpec layer, Pair kernel, Pair stride, Pair dilation)
    {
        Padding p = layer.Padding;
        switch (p.Kind)
        {
            case PaddingKind.Valid:
                return [0, 0, 0, 0];
            case PaddingKind.Same:
                // PyTorch's "same" (stride 1): the odd extra row or column goes bottom/right.
                int th = dilation.H * (kernel.H - 1), tw = dilation.W * (kernel.W - 1);
                return [th / 2, tw / 2, th - th / 2, tw - tw / 2];
            default:
                return [p.Top, p.Left, p.Bottom, p.Right];
        }
    }

    private Value Dense(LayerSpec layer, string name, Value x)
    {
        // Gemm with transB: y = x W^T + b, W kept [units, in] as the engine (and PyTorch's Linear) stores it.
        var inputs = new List<string> { x.Name, Weight(layer, name, "weight") };
        if (layer.UseBias) inputs.Add(Weight(layer, name, "bias"));
        string output = Node("Gemm", name, inputs.ToArray(), OnnxAttribute.Of("transB", 1L));
        return new Value(output, 2, new TensorShape(layer.Units!.Value, 1, 1));
    }

    // ---- pooling and normalisation -----------------------------------------------------------

    private Value Pool(LayerSpec layer, string name, Value x)
    {
        LayerAttributes a = Attributes(layer);
        bool max = layer.Type == "maxpool2d";
        Pair kernel = layer.Kernel!.Value, stride = layer.Stride ?? kernel;
        long[] pads = Pads(layer, kernel, stride, new Pair(1, 1));
        bool ceil = a.Bool("ceil_mode", false);
        var attributes = new List<OnnxAttribute>
        {
            OnnxAttribute.Of("kernel_shape", new long[] { kernel.H, kernel.W }),
            OnnxAttribute.Of("strides", new long[] { stride.H, stride.W }),
            OnnxAttribute.Of("pads", pads),
        };
        if (ceil) attributes.Add(OnnxAttribute.Of("ceil_mode", 1L));
        if (!max) attributes.Add(OnnxAttribute.Of("count_include_pad", a.Bool("count_include_pad", AvgPoolCountsPaddingByDefault) ? 1L : 0L));
        string output = Node(max ? "MaxPool" : "AveragePool", name, [x.Name], attributes.ToArray());
        int oh = PoolSize(x.Shape.H, kernel.H, stride.H, pads[0], pads[2], ceil), ow = PoolSize(x.Shape.W, kernel.W, stride.W, pads[1], pads[3], ceil);
        return Spatial(output, x.Shape.C, oh, ow);
    }

    /// <summary>ONNX's (and PyTorch's) pooled size; in ceil mode the last window must start inside the input or the leading padding.</summary>
    private static int PoolSize(int size, int k, int s, long before, long after, bool ceil)
    {
        long span = size + before + after - k;
        long n = (ceil ? (span + s - 1) / s : span / s) + 1;
        if (ceil && (n - 1) * s >= size + before) n--;
        return (int)n;
    }

    private Value Lrn(LayerSpec layer, string name, Value x)
    {
        // Same formula (alpha divided by size, k is ONNX's bias). The window agrees only for odd sizes:
        // for an even size ONNX puts the extra channel after c, the engine (like PyTorch) before, and ONNX Runtime
        // refuses even sizes outright.
        if (layer.Size % 2 == 0)
            throw Refuse($"lrn with an even size ({layer.Size}) has no ONNX form: ONNX's LRN window then reaches one channel further up than the engine's, and ONNX Runtime accepts odd sizes only.");
        string output = Node("LRN", name, [x.Name],
            OnnxAttribute.Of("size", (long)layer.Size),
            OnnxAttribute.Of("alpha", layer.Alpha ?? Layers.Lrn.DefaultAlpha),
            OnnxAttribute.Of("beta", layer.Beta ?? Layers.Lrn.DefaultBeta),
            OnnxAttribute.Of("bias", layer.K));
        return Same(x, output);
    }

    private Value BatchNorm(LayerSpec layer, string name, Value x)
    {
        string[] inputs = [x.Name, Weight(layer, name, "weight"), Weight(layer, name, "bias"), Weight(layer, name, "running_mean"), Weight(layer, name, "running_var")];
        return Same(x, Node("BatchNormalization", name, inputs, OnnxAttribute.Of("epsilon", layer.Eps)));
    }
}
