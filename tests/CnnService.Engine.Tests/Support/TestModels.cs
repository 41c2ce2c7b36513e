using CnnService.Engine.Layers;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Tests.Support;

/// <summary>Builds small models with seeded random weights, and random inputs, for the tests.</summary>
internal static class TestModels
{
    public static IEnumerable<object[]> SimdLevels() =>
        Enum.GetValues<SimdLevel>().Where(Simd.IsSupported).Select(level => new object[] { level });

    /// <summary>The vector levels this CPU runs: for a kernel's vector paths, tested against a definition (the scalar level is the definition's twin).</summary>
    public static IEnumerable<object[]> VectorLevels() => SimdLevels().Where(l => (SimdLevel)l[0] != SimdLevel.Scalar);

    /// <summary>Whether the CPU runs the AVX-512 kernels that pool rows in registers (AVX-512F and DQ): where a plan fuses a 3x3 max pool into direct rows.</summary>
    public static bool PoolsInRegisters => Simd.IsSupported(SimdLevel.Vector512) && System.Runtime.Intrinsics.X86.Avx512DQ.IsSupported;

    public static ModelSpec Spec(TensorShape input, params LayerSpec[] layers) => new()
    {
        Name = "test",
        Input = new InputSpec { Channels = input.C, Height = input.H, Width = input.W, Mean = new float[input.C], Std = Enumerable.Repeat(1f, input.C).ToArray() },
        Labels = [],
        Layers = layers,
    };

    /// <summary>A model of the given layers with random weights; <paramref name="tensors"/> holds those weights by name.</summary>
    public static Model Build(ModelSpec spec, SimdLevel simd, out Dictionary<string, float[]> tensors, int threads = 1, int seed = 1,
        IReadOnlyDictionary<int, ConvLowering>? lowerings = null)
    {
        WeightSet weights = WeightInitializer.Initialize(spec, seed);
        tensors = weights.AllFloat32().ToDictionary(t => t.Name, t => t.Data);   // copies: the model packs its own
        return Model.Create(spec, weights, new EngineOptions { Simd = simd, Threads = threads, Lowerings = lowerings });
    }

    public static float[] Random(int count, int seed, float scale = 1f)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 2 - 1) * scale;
        return values;
    }

    /// <summary>The layers the model's plan runs inside others (fused, folded), by name (an unnamed one by its type).</summary>
    public static string[] FusedAway(Model model) =>
        Enumerable.Range(0, model.Layers.Count).Where(model.IsFusedAway).Select(i => model.Layers[i].Name ?? model.Layers[i].Type).ToArray();

    /// <summary>The index of the layer named <paramref name="name"/> (-1: none is).</summary>
    public static int IndexOf(Model model, string name) => model.Layers.ToList().FindIndex(l => l.Name == name);

    public static float[] Forward(Model model, float[] input, int batch)
    {
        var output = new float[batch * model.OutputShape.Size];
        model.Forward(input, output, batch);
        return output;
    }

    /// <summary>Each image's output of a pass equals, bit for bit, the last layer's in <see cref="Model.Trace"/>, which runs every layer
    /// on its own: what a fusion must keep.</summary>
    public static void AssertForwardGivesTheTraceBits(Model model, float[] x, int batch)
    {
        float[] y = Forward(model, x, batch);
        int size = model.InputShape.Size, outSize = model.OutputShape.Size;
        for (int n = 0; n < batch; n++)
        {
            float[] expected = model.Trace(x.AsSpan(n * size, size))[^1];
            Assert.Equal(expected, y.AsSpan(n * outSize, outSize).ToArray());
        }
    }

    public static void AssertClose(float[] expected, float[] actual, float tolerance = 1e-4f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float diff = MathF.Abs(expected[i] - actual[i]);
            if (!(diff <= tolerance * Math.Max(1f, MathF.Abs(expected[i]))))
                Assert.Fail($"Value {i} of {expected.Length}: expected {expected[i]}, got {actual[i]} (diff {diff}).");
        }
    }
}
