using System.Globalization;
using CnnService.Batching;
using CnnService.Engine.Evaluation;
using CnnService.Models;

namespace CnnService.Inference;

/// <summary>
/// The output tensor of one request, [N, classes] FP32: what the network's last layer gives (probabilities for a
/// model that ends in softmax, as every shipped one does), and the classification extension over it.
/// </summary>
public sealed class InferenceResult(ModelVersion version, int count, BatchResult batch)
{
    public ModelVersion Version { get; } = version;

    /// <summary>Images in the request: the output's first dimension.</summary>
    public int Count { get; } = count;

    /// <summary>The batch that served it: its size (other requests' images included), queue and compute times.</summary>
    public BatchResult Batch { get; } = batch;

    public int BatchSize => Batch.BatchSize;

    public int Classes => Version.Model.OutputShape.Size;

    /// <summary>Row-major [Count, Classes].</summary>
    public ReadOnlySpan<float> Output => Batch.Outputs.AsSpan(0, Count * Classes);

    public long[] OutputShape => [Count, Classes];

    /// <summary>
    /// The classification extension: per image the top <paramref name="k"/> classes (at most all of them), highest
    /// first, as <c>"value:index:label"</c>, the value being the output's own (as Triton gives it). Row-major [Count, K].
    /// </summary>
    public string[] Classify(int k, out int perImage)
    {
        perImage = Math.Min(k, Classes);
        var strings = new string[Count * perImage];
        IReadOnlyList<string> labels = Version.Model.Labels;
        for (int n = 0; n < Count; n++)
        {
            ReadOnlySpan<float> row = Output.Slice(n * Classes, Classes);
            int[] top = Probabilities.TopIndices(row, perImage);
            for (int j = 0; j < top.Length; j++)
            {
                int i = top[j];
                strings[n * perImage + j] = string.Create(CultureInfo.InvariantCulture, $"{row[i]}:{i}:{Probabilities.LabelOf(labels, i)}");
            }
        }

        return strings;
    }
}
