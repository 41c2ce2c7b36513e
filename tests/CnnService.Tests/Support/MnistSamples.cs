using System.Text.Json.Nodes;
using CnnService.Engine.Data;
using CnnService.Engine.Format;

namespace CnnService.Tests.Support;

/// <summary>Real MNIST test digits from the committed fixture, as predict's JSON instances.</summary>
internal static class MnistSamples
{
    private static readonly Lazy<IDataset> Test = new(() => IdxDataset.Open(Fixtures.MnistSmall, DatasetSplit.Test));

    public static int Label(int index) => Test.Value.Label(index);

    /// <summary>Image <paramref name="index"/> normalised as <paramref name="input"/> says, as a 1 x 28 x 28 nested array.</summary>
    public static JsonArray Instance(int index, InputSpec input)
    {
        var pixels = new float[28 * 28];
        Test.Value.CopyPixels(index, pixels);
        InputNormalization.Apply(input, pixels, pixels);
        var rows = new JsonArray();
        for (int y = 0; y < 28; y++)
        {
            var row = new JsonArray();
            for (int x = 0; x < 28; x++) row.Add(pixels[y * 28 + x]);
            rows.Add(row);
        }

        return new JsonArray(rows);
    }

    /// <summary>Input spec of the shipped mnist models: pixel / 255.</summary>
    public static InputSpec Spec { get; } = new() { Channels = 1, Height = 28, Width = 28, Color = ColorMode.Grayscale, Scale = 1 / 255f, Mean = [0f], Std = [1f] };

    public static string InstancesBody(params int[] indices)
    {
        var instances = new JsonArray();
        foreach (int i in indices) instances.Add(Instance(i, Spec));
        return new JsonObject { ["instances"] = instances }.ToJsonString();
    }
}
