using CnnService.Engine.Format;
using CnnService.Engine.Onnx.Import;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Runtime;

/// <summary>
/// A forward pass reads nothing past the caller's input: every network's first layer (a pooled convolution, direct rows
/// with a pool inside, implicit GEMM, a padding copy...) runs on input that ends at a page nothing may read, at every SIMD
/// level, and gives the output it gives on an ordinary array. A read past the end crashes the test run.
/// </summary>
public class InputBoundsTests
{
    public static IEnumerable<object[]> ArchitecturesAtEveryLevel() =>
        from name in Architectures.Names from level in TestModels.SimdLevels() select new object[] { name, level[0] };

    [Theory]
    [MemberData(nameof(ArchitecturesAtEveryLevel))]
    public void A_built_in_architecture_reads_only_its_input(string name, SimdLevel simd)
    {
        ModelSpec spec = Architectures.Get(name);
        Model model = Model.Create(spec, WeightInitializer.Initialize(spec, 1), new EngineOptions { Simd = simd, Threads = 2 });

        AssertSameAtAGuardPage(model);
    }

    [OnnxModelTheory]
    [MemberData(nameof(OnnxModels.Ids), MemberType = typeof(OnnxModels))]
    public void An_imported_network_reads_only_its_input(string id)
    {
        var (spec, weights) = OnnxImporter.Import(OnnxModels.Get(id).FullPath);
        Model model = Model.Create(spec, weights, new EngineOptions { Threads = 2 });

        AssertSameAtAGuardPage(model);
    }

    private static void AssertSameAtAGuardPage(Model model)
    {
        if (!GuardedMemory.Supported) return;
        foreach (int batch in new[] { 1, 2 })
        {
            float[] x = TestModels.Random(batch * model.InputShape.Size, seed: 11);
            Assert.Equal(TestModels.Forward(model, x, batch), GuardedMemory.Forward(model, x, batch));
        }
    }
}
