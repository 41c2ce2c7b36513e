using CnnService.Engine.Data;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace CnnService.Engine.Tests.Onnx;

/// <summary>Runs ONNX files in ONNX Runtime (the reference this project's exports must agree with) and compares outputs.</summary>
internal static class OnnxRuntimeRunner
{
    /// <summary>The file's output for <paramref name="batch"/> images [N, C, H, W], flattened.</summary>
    public static float[] Run(byte[] onnx, float[] input, int batch, TensorShape shape, string inputName = "input", string outputName = "output")
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(onnx, options);
        var tensor = new DenseTensor<float>(input, [batch, shape.C, shape.H, shape.W]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(inputName, tensor)]);
        return results.Single(r => r.Name == outputName).AsTensor<float>().ToArray();
    }

    /// <summary>max |a - b| over max |a|: the difference relative to the largest output.</summary>
    public static double RelativeMaxDiff(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double diff = 0, scale = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(float.IsFinite(actual[i]), $"value {i} is {actual[i]}");
            diff = Math.Max(diff, Math.Abs((double)expected[i] - actual[i]));
            scale = Math.Max(scale, Math.Abs((double)expected[i]));
        }

        return diff / Math.Max(scale, 1e-30);
    }

    public static void AssertSame(float[] expected, float[] actual, double tolerance = 1e-5)
    {
        double d = RelativeMaxDiff(expected, actual);
        Assert.True(d <= tolerance, $"outputs differ by {d:E3} of the largest output (tolerance {tolerance:E0})");
    }

    /// <summary>
    /// <paramref name="batch"/> real images for a model's input: test images of the MNIST fixture (or Fashion-MNIST's),
    /// tiled to the input's size and repeated over its channels, normalised as the model's input spec says.
    /// </summary>
    public static float[] RealInputs(InputSpec spec, int batch, bool fashion = false, int first = 0)
    {
        IdxDataset data = IdxDataset.Open(fashion ? Fixtures.FashionMnistSmall : Fixtures.MnistSmall, DatasetSplit.Test);
        int c = spec.Channels, h = spec.Height, w = spec.Width, plane = h * w;
        var pixels = new float[28 * 28];
        var image = new float[c * plane];
        var result = new float[batch * c * plane];
        for (int n = 0; n < batch; n++)
        {
            data.CopyPixels(first + n, pixels);
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        image[ch * plane + y * w + x] = pixels[(y % 28) * 28 + (x % 28)];
            InputNormalization.Apply(spec, image, result.AsSpan(n * c * plane, c * plane));
        }

        return result;
    }

    public static float[] Forward(Model model, float[] input, int batch)
    {
        var output = new float[batch * model.OutputShape.Size];
        model.Forward(input, output, batch);
        return output;
    }
}
