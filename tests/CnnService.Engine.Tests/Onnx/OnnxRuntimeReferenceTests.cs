using System.Collections.Concurrent;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Onnx;

/// <summary>
/// The ONNX fixtures and the ONNX Runtime harness the importer's parity tests stand on: every exported net runs in
/// ORT, at batch 1 and 2, gives finite outputs of the manifest's shape, keeps images apart in a batch (the dynamic
/// batch axis works), and reproduces PyTorch's own output for the probe image.
/// </summary>
public sealed class OnnxRuntimeReferenceTests(OnnxRuntimeReferenceTests.Runs runs) : IClassFixture<OnnxRuntimeReferenceTests.Runs>
{
    [OnnxModelTheory]
    [MemberData(nameof(OnnxModels.Ids), MemberType = typeof(OnnxModels))]
    public void Batch_of_one_gives_one_row_of_the_manifests_output_size(string id)
    {
        ModelRuns run = runs.Of(id);

        Assert.Equal([1, run.Entry.Outputs], run.First.Shape);
    }

    [OnnxModelTheory]
    [MemberData(nameof(OnnxModels.Ids), MemberType = typeof(OnnxModels))]
    public void Batch_of_two_gives_two_rows_of_the_manifests_output_size(string id)
    {
        ModelRuns run = runs.Of(id);

        Assert.Equal([2, run.Entry.Outputs], run.Both.Shape);
    }

    [OnnxModelTheory]
    [MemberData(nameof(OnnxModels.Ids), MemberType = typeof(OnnxModels))]
    public void Every_output_is_finite(string id)
    {
        ModelRuns run = runs.Of(id);

        foreach (OnnxOutput output in new[] { run.First, run.Second, run.Both, run.Probe })
            Assert.All(output.Values, v => Assert.True(float.IsFinite(v), $"{id}: {v}"));
    }

    [OnnxModelTheory]
    [MemberData(nameof(OnnxModels.Ids), MemberType = typeof(OnnxModels))]
    public void Each_row_at_batch_two_is_the_batch_one_output_of_its_image(string id)
    {
        ModelRuns run = runs.Of(id);
        int n = run.Entry.Outputs;

        AssertClose(run.First.Values, run.Both.Values.AsSpan(0, n).ToArray(), 1e-5f, $"{id} row 0");
        AssertClose(run.Second.Values, run.Both.Values.AsSpan(n, n).ToArray(), 1e-5f, $"{id} row 1");
    }

    [OnnxModelTheory]
    [MemberData(nameof(OnnxModels.Ids), MemberType = typeof(OnnxModels))]
    public void Different_images_give_clearly_different_outputs(string id)
    {
        // Guards the fixtures themselves: a net whose output ignores its input (as purely random BatchNorm
        // statistics once made five of them, to 1e-7) would let any runtime pass parity.
        ModelRuns run = runs.Of(id);
        float scale = Math.Max(1f, run.First.Values.Max(Math.Abs));
        float largest = 0;
        for (int i = 0; i < run.First.Values.Length; i++) largest = Math.Max(largest, Math.Abs(run.First.Values[i] - run.Second.Values[i]));

        Assert.True(largest > 1e-4f * scale, $"{id}: two random images differ by at most {largest} in outputs of scale {scale}");
    }

    [OnnxModelTheory]
    [MemberData(nameof(OnnxModels.Ids), MemberType = typeof(OnnxModels))]
    public void Output_for_the_probe_image_is_pytorchs(string id)
    {
        ModelRuns run = runs.Of(id);

        // Measured with ORT 1.32 on x64: at most 7e-5 of the output's scale (efficientnet_b0, whose logits reach
        // 5e3, through 65 sigmoids), 1e-5 for mobilenet_v3_small, 3e-6 or less for the rest.
        Assert.Equal([1, run.Entry.Outputs], run.Probe.Shape);
        AssertClose(run.Entry.TorchOutput, run.Probe.Values, 3e-4f, id);
    }

    [OnnxModelFact]
    public void Unfused_exports_keep_standalone_BatchNormalization_nodes()
    {
        OnnxModelEntry[] unfused = OnnxModels.All.Where(e => !e.Fused).ToArray();

        Assert.NotEmpty(unfused);
        Assert.All(unfused, e => Assert.Contains("BatchNormalization", e.OpTypes));
    }

    [OnnxModelFact]
    public void Every_seed_net_is_exported_at_opsets_9_13_and_17()
    {
        string[] expected = ["keras-mnist", "lenet5", "tinyvgg"];
        int[] opsets = [9, 13, 17];

        foreach (string name in expected)
            Assert.Equal(opsets, OnnxModels.All.Where(e => e.Family == "seeds" && e.Name == name).Select(e => e.Opset).Order());
    }

    /// <summary>|a - b| within <paramref name="tolerance"/> times the larger of 1 and the expected output's largest magnitude.</summary>
    private static void AssertClose(float[] expected, float[] actual, float tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = Math.Max(1f, expected.Max(Math.Abs));
        for (int i = 0; i < expected.Length; i++)
        {
            float error = Math.Abs(expected[i] - actual[i]);
            Assert.True(error <= tolerance * scale, $"{what}[{i}]: expected {expected[i]}, got {actual[i]} (error {error}, allowed {tolerance * scale})");
        }
    }

    /// <summary>One model's four ORT runs, made once and shared by the tests of the class.</summary>
    internal sealed record ModelRuns(OnnxModelEntry Entry, OnnxOutput First, OnnxOutput Second, OnnxOutput Both, OnnxOutput Probe);

    /// <summary>Runs each model once per test class (loading densenet121 for each test would dominate the time).</summary>
    public sealed class Runs
    {
        private readonly ConcurrentDictionary<string, Lazy<ModelRuns>> runs = new();

        internal ModelRuns Of(string id) => runs.GetOrAdd(id, key => new Lazy<ModelRuns>(() => Make(key))).Value;

        private static ModelRuns Make(string id)
        {
            OnnxModelEntry entry = OnnxModels.Get(id);
            int size = entry.InputSize;
            float[] first = TestModels.Random(size, seed: 1), second = TestModels.Random(size, seed: 2);
            using var reference = new OnnxRuntimeReference(entry.FullPath);
            return new ModelRuns(
                entry,
                reference.Run(first, entry.BatchShape(1)),
                reference.Run(second, entry.BatchShape(1)),
                reference.Run([.. first, .. second], entry.BatchShape(2)),
                reference.Run(OnnxModels.ProbeImage(size), entry.BatchShape(1)));
        }
    }
}
