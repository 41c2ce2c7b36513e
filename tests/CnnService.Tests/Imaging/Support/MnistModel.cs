using System.Text.Json.Nodes;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Tests.Support;

namespace CnnService.Tests.Imaging.Support;

/// <summary>The shipped models/mnist/2 (small-vgg, 99.58 % on MNIST), loaded once, on one thread.</summary>
internal static class MnistModel
{
    private static readonly Lazy<Model> Loaded = new(() => ModelLoader.Load(Path.Combine(Fixtures.Models, "mnist", "2"), EngineOptions.Default with { Threads = 1 }));

    public static Model Model => Loaded.Value;

    /// <summary>The model's input with <c>"preprocess": "mnist"</c>, whatever its model.json says.</summary>
    public static InputSpec MnistInput
    {
        get
        {
            InputSpec input = Model.Spec.Input;
            return new InputSpec
            {
                Channels = input.Channels, Height = input.Height, Width = input.Width, Color = input.Color,
                Scale = input.Scale, Mean = input.Mean, Std = input.Std, Extra = new JsonObject { ["preprocess"] = "mnist" },
            };
        }
    }

    /// <summary>The predicted class of one normalised input.</summary>
    public static int Predict(ReadOnlySpan<float> input)
    {
        var output = new float[Model.OutputShape.Size];
        Model.Forward(input, output, 1);
        int best = 0;
        for (int i = 1; i < output.Length; i++) if (output[i] > output[best]) best = i;
        return best;
    }
}
