using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Layers;

/// <summary>clip, hardsigmoid and hardswish: the activations the ONNX importer maps Clip, HardSigmoid and HardSwish to; and ReLU with a NaN.</summary>
public class ActivationOpsTests
{
    private static readonly TensorShape Shape = new(3, 5, 7); // 105 values an image: every vector path leaves a tail

    /// <summary>Each op as written in model.json, with its definition in double precision.</summary>
    private static readonly Dictionary<string, (string Json, Func<double, double> F)> Ops = new()
    {
        ["clip"] = ("""{ "type": "clip", "min": -1.5, "max": 2.25 }""", v => Math.Min(Math.Max(v, -1.5), 2.25)),
        ["clip_min_only"] = ("""{ "type": "clip", "min": 0 }""", v => Math.Max(v, 0)),
        ["clip_max_only"] = ("""{ "type": "clip", "max": 6 }""", v => Math.Min(v, 6)),
        ["hardsigmoid"] = ("""{ "type": "hardsigmoid" }""", v => Math.Max(0, Math.Min(1, 0.2 * v + 0.5))),
        ["hardsigmoid_given"] = ("""{ "type": "hardsigmoid", "alpha": 0.1666667, "beta": 0.25 }""", v => Math.Max(0, Math.Min(1, 0.1666667 * v + 0.25))),
        ["hardswish"] = ("""{ "type": "hardswish" }""", v => v * Math.Max(0, Math.Min(1, v / 6 + 0.5))),
    };

    public static IEnumerable<object[]> OpsAtEveryLevel() =>
        from level in TestModels.SimdLevels() from op in Ops.Keys select new object[] { op, level[0] };

    public static IEnumerable<object[]> OpsAtVectorLevels() =>
        from level in TestModels.SimdLevels() where (SimdLevel)level[0] != SimdLevel.Scalar from op in Ops.Keys select new object[] { op, level[0] };

    [Theory]
    [MemberData(nameof(OpsAtEveryLevel))]
    public void Activation_matches_its_definition(string op, SimdLevel simd)
    {
        Model model = Build(Shape, simd, LayerJson.Parse(Ops[op].Json));
        float[] x = TestModels.Random(17 * Shape.Size, seed: 20, scale: 9f); // batch 17, both sides of every bend

        TestModels.AssertClose(Reference.Map(x, Ops[op].F), TestModels.Forward(model, x, 17), 1e-6f);
    }

    [VectorTheory]
    [MemberData(nameof(OpsAtVectorLevels))]
    public void Vector_paths_equal_the_scalar_twin_bit_for_bit(string op, SimdLevel simd)
    {
        LayerSpec layer = LayerJson.Parse(Ops[op].Json);
        float[] x = [.. TestModels.Random(Shape.Size * 3, seed: 21, scale: 9f), -3f, 3f, -0f, 0f, 6f, -6f, 2.5f, -2.5f, 1e30f, -1e30f, float.Epsilon, 7f, 0.5f];
        var shape = new TensorShape(x.Length, 1, 1);

        float[] scalar = TestModels.Forward(Build(shape, SimdLevel.Scalar, layer), x, 1);
        float[] vector = TestModels.Forward(Build(shape, simd, layer), x, 1);

        Assert.Equal(scalar.Select(BitConverter.SingleToInt32Bits), vector.Select(BitConverter.SingleToInt32Bits));
    }

    [Theory]
    [MemberData(nameof(TestModels.SimdLevels), MemberType = typeof(TestModels))]
    public void Clip_passes_nan_through_and_bounds_infinities(SimdLevel simd)
    {
        Model model = Build(new TensorShape(19, 1, 1), simd, LayerJson.Parse("""{ "type": "clip", "min": -1, "max": 1 }"""));
        float[] x = new float[19];
        x[0] = float.NaN; x[9] = float.PositiveInfinity; x[17] = float.NegativeInfinity; x[18] = float.NaN; // vector lanes and the scalar tail

        float[] y = TestModels.Forward(model, x, 1);
        Assert.True(float.IsNaN(y[0]) && float.IsNaN(y[18]), "NaN stays NaN, as numpy.clip and ONNX Clip keep it");
        Assert.Equal((1f, -1f), (y[9], y[17]));
    }

    [Theory]
    [MemberData(nameof(TestModels.SimdLevels), MemberType = typeof(TestModels))]
    public void Relu_passes_nan_through_at_every_level_as_a_fused_relu_does(SimdLevel simd)
    {
        // A fused ReLU is a clip to [0, inf), which keeps NaN (as PyTorch's relu does); the layer on its own must agree,
        // or a pass and its trace would differ where a NaN arrives.
        Model model = Build(new TensorShape(19, 1, 1), simd, LayerJson.Parse("""{ "type": "relu" }"""));
        float[] x = new float[19];
        x[0] = float.NaN; x[3] = -0f; x[5] = -2f; x[7] = 3f; x[18] = float.NaN; // vector lanes and the scalar tail

        float[] y = TestModels.Forward(model, x, 1);

        Assert.True(float.IsNaN(y[0]) && float.IsNaN(y[18]), "NaN stays NaN");
        Assert.Equal((0f, 0f, 3f), (y[3], y[5], y[7]));
        Assert.False(float.IsNegative(y[3]), "relu(-0) is +0");
    }

    [Fact]
    public void Clip_with_min_above_max_gives_max_everywhere()
    {
        Model model = Build(new TensorShape(3, 1, 1), Simd.Best, LayerJson.Parse("""{ "type": "clip", "min": 2, "max": 1 }"""));

        Assert.Equal([1f, 1f, 1f], TestModels.Forward(model, [0f, 1.5f, 5f], 1));
    }

    [Fact]
    public void Clip_without_bounds_is_the_identity()
    {
        Model model = Build(new TensorShape(4, 1, 1), Simd.Best, LayerJson.Parse("""{ "type": "clip" }"""));
        float[] x = [-1e30f, -2f, 3f, 1e30f];

        Assert.Equal(x, TestModels.Forward(model, x, 1));
    }

    [Theory]
    [InlineData("hardsigmoid", new[] { -3f, -2.5f, 0f, 2.5f, 3f }, new[] { 0f, 0f, 0.5f, 1f, 1f })]
    [InlineData("hardswish", new[] { -4f, -3f, 0f, 1.5f, 3f, 4f }, new[] { 0f, 0f, 0f, 1.125f, 3f, 4f })]
    public void Hard_functions_bend_where_their_definitions_do(string type, float[] x, float[] expected)
    {
        Model model = Build(new TensorShape(x.Length, 1, 1), Simd.Best, LayerJson.Parse($$"""{ "type": "{{type}}" }"""));

        TestModels.AssertClose(expected, TestModels.Forward(model, x, 1), 1e-6f);
    }

    [Theory]
    [MemberData(nameof(OpsAtEveryLevel))]
    public void Activation_writes_a_separate_output_and_over_its_own_input_alike(string op, SimdLevel simd)
    {
        // First layer: it reads the caller's input, so writes elsewhere. After a pad: the plan gives it the pad's buffer to write over.
        LayerSpec layer = LayerJson.Parse(Ops[op].Json);
        float[] x = TestModels.Random(2 * Shape.Size, seed: 22, scale: 9f);
        float[] expected = Reference.Map(x, Ops[op].F);

        float[] alone = TestModels.Forward(Build(Shape, simd, layer), x, 2);
        float[] afterPad = TestModels.Forward(Build(Shape, simd, LayerJson.Parse("""{ "type": "pad", "padding": 0 }"""), layer), x, 2);

        TestModels.AssertClose(expected, alone, 1e-6f);
        TestModels.AssertClose(expected, afterPad, 1e-6f);
    }

    [Theory]
    [InlineData("""{ "type": "clip", "name": "c1", "min": "zero" }""", "\"min\" must be a finite number")]
    [InlineData("""{ "type": "clip", "name": "c1", "max": 1e39 }""", "\"max\" must be a finite number")]
    [InlineData("""{ "type": "clip", "name": "c1", "min": [0] }""", "\"min\" must be a finite number")]
    public void Clip_bounds_that_are_not_finite_numbers_are_refused(string json, string message)
    {
        var e = Assert.Throws<ModelFormatException>(() => Build(Shape, Simd.Best, LayerJson.Parse(json)));

        Assert.Contains("layer 0 (c1, clip)", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Hardsigmoid_alpha_must_be_a_number()
    {
        var e = Assert.Throws<ModelFormatException>(() => LayerJson.Parse("""{ "type": "hardsigmoid", "alpha": "steep" }"""));

        Assert.Contains("alpha", e.Message);
    }

    private static Model Build(TensorShape input, SimdLevel simd, params LayerSpec[] layers) =>
        TestModels.Build(TestModels.Spec(input, layers), simd, out _);
}
