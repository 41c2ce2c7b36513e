using System.Collections.Concurrent;
using CnnService.Engine.Layers;
using CnnService.Engine.Onnx.Import;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Onnx;

/// <summary>
/// The acceptance test of ONNX import: every real export (the seeds' nets at opsets 9, 13 and 17,
/// torchvision's classifiers with random weights and non-trivial BatchNorm statistics) imported and
/// run by the engine gives ONNX Runtime's outputs, within 1e-4 of the largest, at batch 1 and 2, on
/// image-like inputs (<see cref="OnnxModels.SmoothImages"/>: on per-pixel noise, float32 itself cannot
/// pin EfficientNet-B0's output to 1e-4, and the engine was 8.7e-5 from float64 there where ONNX Runtime was 2.3e-4).
/// </summary>
public sealed class OnnxParityTests(OnnxParityTests.References references) : IClassFixture<OnnxParityTests.References>
{
    private const float Tolerance = 1e-4f;

    [OnnxModelTheory]
    [MemberData(nameof(OnnxModels.Ids), MemberType = typeof(OnnxModels))]
    public void Imported_model_gives_onnx_runtimes_output_at_batch_1(string id) => AssertParity(id, batch: 1);

    [OnnxModelTheory]
    [MemberData(nameof(OnnxModels.Ids), MemberType = typeof(OnnxModels))]
    public void Imported_model_gives_onnx_runtimes_output_at_batch_2(string id) => AssertParity(id, batch: 2);

    public static TheoryData<string, ConvLowering> IdsAndLowerings()
    {
        var data = new TheoryData<string, ConvLowering>();
        foreach (string id in OnnxModels.Ids)
            foreach (ConvLowering lowering in Enum.GetValues<ConvLowering>()) data.Add(id, lowering);
        return data;
    }

    /// <summary>A measured plan may move any convolution no fusion holds to another lowering its shape admits: whichever the
    /// clock favours (a stand-in clock here, favouring one lowering everywhere), the network computes the same.</summary>
    [OnnxModelTheory]
    [MemberData(nameof(IdsAndLowerings))]
    public void Imported_model_on_a_measured_plan_gives_onnx_runtimes_output(string id, ConvLowering favoured) =>
        AssertParity(id, batch: 2, EngineOptions.Default with { Threads = 2, Plan = PlanMode.Measure, PlanTimer = (_, l) => l == favoured ? 1.0 : 2.0 });

    private void AssertParity(string id, int batch, EngineOptions? options = null)
    {
        OnnxModelEntry entry = OnnxModels.Get(id);
        var (input, expected) = references.Of(entry, batch);
        var (spec, weights) = OnnxImporter.Import(entry.FullPath);
        Model model = Model.Create(spec, weights, options ?? EngineOptions.Default with { Threads = 2 });
        var actual = new float[batch * model.OutputShape.Size];

        model.Forward(input, actual, batch);

        Assert.Equal(expected.Length, actual.Length);
        float scale = expected.Max(Math.Abs), worst = 0;
        for (int i = 0; i < actual.Length; i++) worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]));
        Assert.True(worst <= Tolerance * Math.Max(scale, 1e-6f), $"{id} batch {batch}: largest difference {worst:G3}, outputs up to {scale:G3} (tolerance {Tolerance} of that)");
    }

    /// <summary>ONNX Runtime's outputs, computed once per model and batch for the whole class.</summary>
    public sealed class References
    {
        private readonly ConcurrentDictionary<(string, int), (float[], float[])> _runs = new();

        internal (float[] Input, float[] Output) Of(OnnxModelEntry entry, int batch) => _runs.GetOrAdd((entry.Id, batch), _ =>
        {
            float[] input = OnnxModels.SmoothImages(batch, entry.Input, seed: 7);
            return (input, OnnxRuntimeReference.Run(entry.FullPath, input, entry.BatchShape(batch)).Values);
        });
    }
}
