using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>Turns one <see cref="LayerSpec"/> into a planned layer for its input shapes, taking its tensors from the weights.</summary>
internal static class LayerFactory
{
    /// <summary>Plans the layer; <paramref name="lowering"/> forces how a plain convolution runs (one its shape admits).</summary>
    public static Layer Create(LayerSpec spec, int index, TensorShape[] inputs, IWeightSource weights, SimdLevel simd, bool fuseRelu, ConvLowering? lowering = null)
    {
        string where = $"model.json: {spec.Describe(index)}";
        return spec.Type switch
        {
            "add" or "sub" or "mul" or "div" => new Binary(spec, where, inputs, weights, simd),
            "concat" => new Concat(spec.Name, where, inputs),
            _ => One(spec, where, inputs[0], weights, simd, fuseRelu, inputs.Length, lowering),
        };
    }

    /// <summary>The layers that read one tensor.</summary>
    private static Layer One(LayerSpec spec, string where, TensorShape input, IWeightSource weights, SimdLevel simd, bool fuseRelu, int count, ConvLowering? lowering)
    {
        if (count != 1) throw new ModelFormatException($"{where}: {spec.Type} reads one input, got {count}.");
        if (lowering is not null && spec.Type != "conv2d") throw new ArgumentException($"{where}: only a convolution has a lowering to choose.", nameof(lowering));
        return spec.Type switch
        {
            "conv2d" => ConvSettings.Create(spec, where, input, weights, simd, fuseRelu, lowering),
            "dense" => new Dense(spec, where, input, weights, simd, fuseRelu),
            "relu" or "sigmoid" or "tanh" or "clip" or "hardsigmoid" or "hardswish" => new Activation(spec, where, input, simd),
            "maxpool2d" => new MaxPool2D(spec, where, input, simd),
            "avgpool2d" => new AvgPool2D(spec, where, input, simd),
            "global_avgpool" => new GlobalAvgPool(spec.Name, input, simd),
            "flatten" => new Flatten(spec.Name, input),
            "dropout" => new Dropout(spec, where, input),
            "lrn" => new Lrn(spec, where, input),
            "batchnorm" => new BatchNorm(spec, where, input, weights),
            "softmax" => new Softmax(spec.Name, input),
            "pad" => new Pad2D(spec, where, input),
            "channel_shuffle" => new ChannelShuffle(spec, where, input),
            "reshape" => new Reshape(spec, where, input),
            "slice_channels" => new SliceChannels(spec, where, input),
            _ => throw new ModelFormatException($"{where}: unknown layer type \"{spec.Type}\" (known: {string.Join(", ", ModelSpecJson.LayerTypes)})."),
        };
    }
}
