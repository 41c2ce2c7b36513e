using CnnService.Engine.Format;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;
using CnnService.Engine.Training.Layers;

namespace CnnService.Engine.Training;

/// <summary>Turns one <see cref="LayerSpec"/> into its training layer for a given input shape, taking its starting tensors from the weights.</summary>
internal static class TrainLayerFactory
{
    public static TrainLayer Create(LayerSpec spec, int index, TensorShape input, IWeightSource weights, int maxBatch, int threads, bool fuseRelu = false)
    {
        string where = $"model.json: {spec.Describe(index)}";
        return spec.Type switch
        {
            "conv2d" => new TrainConv2D(spec, where, PlainConvolution(spec, where, input), weights, maxBatch, threads, fuseRelu),
            "dense" => new TrainDense(spec, where, input, weights, maxBatch, threads, fuseRelu),
            "relu" or "sigmoid" or "tanh" => new TrainActivation(spec.Type, spec.Name, input),
            "maxpool2d" or "avgpool2d" => new TrainPool2D(spec, where, input),
            "flatten" => new TrainFlatten(spec.Name, input),
            "global_avgpool" => new TrainGlobalAvgPool(spec.Name, input),
            "dropout" => new TrainDropout(spec, where, index, input),
            "lrn" => new TrainLrn(spec, where, input, maxBatch),
            "batchnorm" => new TrainBatchNorm(spec, where, input, weights),
            _ => throw new ModelFormatException($"{where}: layer type \"{spec.Type}\" cannot be trained yet."),
        };
    }

    /// <summary>Training runs plain convolutions only: grouped, depthwise and dilated ones are inference-only for now.</summary>
    private static TensorShape PlainConvolution(LayerSpec spec, string where, TensorShape input)
    {
        ConvSettings settings = ConvSettings.Read(spec, where, input);
        if (!settings.IsPlain)
            throw new ModelFormatException($"{where}: a conv2d with groups {settings.Groups} and dilation {settings.Dilation} cannot be trained yet (only groups 1, dilation 1).");
        return input;
    }
}
