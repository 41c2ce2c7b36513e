using System.Text.Json.Nodes;
using CnnService.Engine.Format;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Layers;

public class BinaryTests
{
    private static readonly TensorShape Input = new(3, 5, 7);   // odd sizes: vector tails everywhere

    /// <summary>Operand shapes for two-input ops: every fast path and the general strides.</summary>
    private static readonly (TensorShape A, TensorShape B)[] Pairs =
    [
        (new(3, 5, 7), new(3, 5, 7)),   // same shape: residual add, x * sigmoid(x)
        (new(3, 5, 7), new(3, 1, 1)),   // per channel: squeeze-and-excite gate, BN-like scale
        (new(3, 1, 1), new(3, 5, 7)),   // per channel on the left
        (new(3, 5, 7), new(1, 1, 1)),   // scalar
        (new(1, 1, 1), new(3, 5, 7)),
        (new(3, 5, 7), new(1, 5, 7)),   // one plane against every channel
        (new(3, 1, 7), new(1, 5, 1)),   // both broadcast: the output is neither input's shape
        (new(3, 5, 1), new(1, 1, 7)),
        (new(1, 5, 7), new(3, 1, 1)),
        (new(3, 1, 1), new(3, 1, 1)),   // what a dense layer's [K] outputs look like
    ];

    private static readonly Dictionary<string, Func<double, double, double>> Ops = new()
    {
        ["add"] = (x, y) => x + y,
        ["sub"] = (x, y) => x - y,
        ["mul"] = (x, y) => x * y,
        ["div"] = (x, y) => x / y,
    };

    public static IEnumerable<object[]> TwoInputCases() =>
        from level in TestModels.SimdLevels() from op in Ops.Keys from i in Enumerable.Range(0, Pairs.Length) select new object[] { op, i, level[0] };

    [Theory]
    [MemberData(nameof(TwoInputCases))]
    public void Two_inputs_broadcast_as_numpy_does(string op, int pair, SimdLevel simd)
    {
        (TensorShape sa, TensorShape sb) = Pairs[pair];
        const int N = 3;
        float[] x = Positive(N * Input.Size, seed: 20 + pair);
        var layers = new List<LayerSpec>();
        string a = Operand("a", sa, layers), b = Operand("b", sb, layers);
        layers.Add(new LayerSpec { Type = op, Name = "op", Inputs = [a, b] });
        Model model = TestModels.Build(TestModels.Spec(Input, [.. layers]), simd, out _);

        float[] expected = Reference.Broadcast(Operand(x, N, sa), sa, true, Operand(x, N, sb), sb, true, N, Ops[op]);
        TestModels.AssertClose(expected, TestModels.Forward(model, x, N), 1e-6f);
    }

    public static IEnumerable<object[]> ConstantCases() =>
        from level in TestModels.SimdLevels()
        from op in Ops.Keys
        from shapes in new[] { "3,5,7|3,5,7", "3,5,7|3,1,1", "3,5,7|1,1,1", "3,5,7|1,5,7", "3,5,7|3,1,7", "3,5,7|1,5,1", "1,5,1|3,1,7", "3,1,1|3,5,7" }
        from first in new[] { false, true }
        select new object[] { op, shapes, first, level[0] };

    [Theory]
    [MemberData(nameof(ConstantCases))]
    public void A_constant_operand_broadcasts_on_either_side(string op, string shapes, bool constantFirst, SimdLevel simd)
    {
        TensorShape input = Parse(shapes.Split('|')[0]), constant = Parse(shapes.Split('|')[1]);
        const int N = 3;
        float[] x = Positive(N * input.Size, seed: 30), value = Positive(constant.Size, seed: 31);
        Model model = WithConstant(op, input, constant, constantFirst, value, simd);

        float[] expected = constantFirst
            ? Reference.Broadcast(value, constant, false, x, input, true, N, Ops[op])
            : Reference.Broadcast(x, input, true, value, constant, false, N, Ops[op]);
        TestModels.AssertClose(expected, TestModels.Forward(model, x, N), 1e-6f);
    }

    [Theory]
    [InlineData("add")]
    [InlineData("div")]
    public void Vector_paths_equal_the_scalar_twin_bit_for_bit(string op)
    {
        // [3,1,7] against [1,5,1]: runs against runs and against repeated values, with 7-long tails.
        var spec = TestModels.Spec(Input, [.. Build(op, Pairs[6])]);
        float[] x = Positive(5 * Input.Size, seed: 40);
        float[] scalar = TestModels.Forward(TestModels.Build(spec, SimdLevel.Scalar, out _), x, 5);

        foreach (object[] level in TestModels.SimdLevels())
            Assert.Equal(scalar, TestModels.Forward(TestModels.Build(spec, (SimdLevel)level[0], out _), x, 5));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Long_runs_split_into_blocks_and_across_threads(bool perChannel)
    {
        // 70 x 70 planes are longer than a block; batch 7 stays below the batch split, so the layer splits itself.
        var input = new TensorShape(16, 70, 70);
        var constant = perChannel ? new TensorShape(16, 1, 1) : input;
        float[] x = Positive(7 * input.Size, seed: 50), value = Positive(constant.Size, seed: 51);
        Model model = WithConstant("mul", input, constant, false, value, Simd.Best, threads: 2);

        TestModels.AssertClose(Reference.Broadcast(x, input, true, value, constant, false, 7, Ops["mul"]), TestModels.Forward(model, x, 7), 1e-6f);
    }

    [Fact]
    public void A_residual_add_of_a_14x14_map_splits_across_two_threads()
    {
        // 64 x 14x14 (MobileNet V2's): the layers before it were split, and each core adds the part it holds in cache.
        Assert.Equal(2, AddChunksAtBatch1(new TensorShape(64, 14, 14), threads: 2));
    }

    [Fact]
    public void A_tiny_add_stays_on_one_thread()
    {
        Assert.Equal(1, AddChunksAtBatch1(new TensorShape(4, 8, 8), threads: 2));
    }

    [Theory]
    [MemberData(nameof(TestModels.SimdLevels), MemberType = typeof(TestModels))]
    public void A_subnormal_product_is_flushed_to_zero_and_normal_ones_are_kept(SimdLevel simd)
    {
        // A gate of 1e-30 on 1e-10 gives 1e-40, subnormal: zero instead. 2^-126 itself is normal and stays; NaN stays NaN.
        var input = new TensorShape(19, 1, 1);   // 16 lanes and a scalar tail
        float[] x = Enumerable.Repeat(1e-10f, 19).ToArray();
        x[3] = -1e-10f; x[7] = 1.17549435e-18f; x[17] = float.NaN; x[18] = 1e-10f;
        float[] gate = Enumerable.Repeat(1e-30f, 19).ToArray();
        gate[7] = 1e-20f; gate[18] = 1e-30f;
        Model model = WithConstant("mul", input, input, false, gate, simd, threads: 1);

        float[] y = TestModels.Forward(model, x, 1);

        Assert.All(new[] { 0, 1, 2, 3, 16, 18 }, i => Assert.Equal(0f, MathF.Abs(y[i])));
        Assert.Equal(1.17549435e-38f, y[7]);
        Assert.True(float.IsNaN(y[17]));
    }

    [Fact]
    public void Writes_over_its_first_input_only_when_the_output_has_its_shape()
    {
        Model same = TestModels.Build(TestModels.Spec(Input, [.. Build("add", Pairs[1])]), Simd.Best, out _);
        Model wider = TestModels.Build(TestModels.Spec(Input, [.. Build("add", Pairs[2])]), Simd.Best, out _);

        Assert.True(((Binary)same.Layers[^1]).InPlace);
        Assert.False(((Binary)wider.Layers[^1]).InPlace);
    }

    [Fact]
    public void A_constant_counts_as_parameters()
    {
        Model model = WithConstant("add", Input, new TensorShape(3, 1, 1), false, [1f, 2f, 3f], Simd.Best);

        Assert.Equal(3, model.Parameters);
    }

    [Theory]
    [InlineData(1, false, "two inputs, or one input and a constant")]
    [InlineData(3, false, "got 3 inputs")]
    [InlineData(2, true, "got 2 inputs and a constant")]
    public void Wrong_arity_is_refused_clearly(int inputs, bool constant, string message)
    {
        var extra = constant ? new JsonObject { ["constant_shape"] = new JsonArray(1, 1, 1) } : new JsonObject();
        var op = new LayerSpec { Type = "sub", Name = "op", Inputs = [.. Enumerable.Repeat("input", inputs)], Extra = extra };

        var e = Assert.Throws<ModelFormatException>(() => TestModels.Build(TestModels.Spec(Input, op), Simd.Best, out _));
        Assert.Contains("layer 0 (op, sub)", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Shapes_that_do_not_broadcast_are_refused_naming_both()
    {
        var slice = new LayerSpec { Type = "slice_channels", Name = "s", Extra = new JsonObject { ["start"] = 0, ["end"] = 2 } };
        var op = new LayerSpec { Type = "add", Name = "op", Inputs = ["input", "s"] };

        var e = Assert.Throws<ModelFormatException>(() => TestModels.Build(TestModels.Spec(Input, slice, op), Simd.Best, out _));
        Assert.Contains("[3,5,7] and [2,5,7] do not broadcast", e.Message);
    }

    [Theory]
    [InlineData("[3, 1]", "must be [c, h, w]")]
    [InlineData("[3, 0, 1]", "\"constant_shape\" must be a list of integers from 1")]
    [InlineData("[2, 1, 1]", "do not broadcast")]
    public void A_bad_constant_shape_is_refused(string shape, string message)
    {
        var op = new LayerSpec { Type = "mul", Name = "op", Extra = new JsonObject { ["constant_shape"] = JsonNode.Parse(shape) } };

        var e = Assert.Throws<ModelFormatException>(() => Model.Create(TestModels.Spec(Input, op), WeightSet.FromTensors([])));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void A_constant_of_the_wrong_stored_shape_is_refused()
    {
        var op = new LayerSpec { Type = "mul", Name = "op", Extra = new JsonObject { ["constant_shape"] = new JsonArray(3, 1, 1) } };
        var weights = WeightSet.FromTensors([new NamedTensor("op.value", [1, 1, 1], [2f])]);

        var e = Assert.Throws<ModelFormatException>(() => Model.Create(TestModels.Spec(Input, op), weights));
        Assert.Contains("op.value", e.Message);
    }

    [Fact]
    public void A_constant_needs_a_name()
    {
        var op = new LayerSpec { Type = "mul", Extra = new JsonObject { ["constant_shape"] = new JsonArray(1, 1, 1) } };

        var e = Assert.Throws<ModelFormatException>(() => Model.Create(TestModels.Spec(Input, op), WeightSet.FromTensors([])));
        Assert.Contains("\"name\" is required", e.Message);
    }

    [Fact]
    public void Constant_first_without_a_constant_is_refused()
    {
        var op = new LayerSpec { Type = "div", Name = "op", Inputs = ["input", "input"], Extra = new JsonObject { ["constant_first"] = true } };

        var e = Assert.Throws<ModelFormatException>(() => TestModels.Build(TestModels.Spec(Input, op), Simd.Best, out _));
        Assert.Contains("\"constant_first\" needs a constant", e.Message);
    }

    [Theory]
    [InlineData("add")]
    [InlineData("concat")]
    [InlineData("slice_channels")]
    public void The_new_ops_cannot_be_trained_yet(string type)
    {
        var extra = type == "slice_channels" ? new JsonObject { ["start"] = 0, ["end"] = 1 } : new JsonObject();
        var op = new LayerSpec { Type = type, Name = "op", Inputs = type == "slice_channels" ? null : ["input", "input"], Extra = extra };
        ModelSpec spec = TestModels.Spec(Input, op);

        var e = Assert.Throws<ModelFormatException>(() => CnnService.Engine.Training.TrainNetwork.Create(spec, WeightInitializer.Initialize(spec, 1), 1));
        Assert.Contains($"layer type \"{type}\" cannot be trained yet", e.Message);
    }

    private static Model WithConstant(string op, TensorShape input, TensorShape constant, bool constantFirst, float[] value, SimdLevel simd, int threads = 1)
    {
        var layer = new LayerSpec
        {
            Type = op, Name = "op",
            Extra = new JsonObject { ["constant_shape"] = new JsonArray(constant.C, constant.H, constant.W), ["constant_first"] = constantFirst },
        };
        var weights = WeightSet.FromTensors([new NamedTensor("op.value", [constant.C, constant.H, constant.W], value)]);
        return Model.Create(TestModels.Spec(input, layer), weights, new EngineOptions { Simd = simd, Threads = threads });
    }

    private static List<LayerSpec> Build(string op, (TensorShape A, TensorShape B) pair)
    {
        var layers = new List<LayerSpec>();
        string a = Operand("a", pair.A, layers), b = Operand("b", pair.B, layers);
        layers.Add(new LayerSpec { Type = op, Name = "op", Inputs = [a, b] });
        return layers;
    }

    /// <summary>Layers that make an operand of <paramref name="shape"/> from the input: the first channels
    /// (slice_channels), averaged over height or width (avgpool2d), or, for the whole input, a ReLU, which
    /// changes nothing on positive values but puts the operand in the arena, where the op may write over it.</summary>
    private static string Operand(string prefix, TensorShape shape, List<LayerSpec> layers)
    {
        string last = LayerSpec.ModelInput;
        if (shape.C < Input.C)
        {
            layers.Add(new LayerSpec { Type = "slice_channels", Name = prefix + "s", Inputs = [last], Extra = new JsonObject { ["start"] = 0, ["end"] = shape.C } });
            last = prefix + "s";
        }

        if (shape.H < Input.H || shape.W < Input.W)
        {
            var kernel = new Pair(shape.H < Input.H ? Input.H : 1, shape.W < Input.W ? Input.W : 1);
            layers.Add(new LayerSpec { Type = "avgpool2d", Name = prefix + "p", Inputs = [last], Kernel = kernel });
            last = prefix + "p";
        }

        if (last == LayerSpec.ModelInput)
        {
            layers.Add(new LayerSpec { Type = "relu", Name = prefix + "r", Inputs = [last] });
            last = prefix + "r";
        }

        return last;
    }

    /// <summary>The reference for <see cref="Operand(string, TensorShape, List{LayerSpec})"/>.</summary>
    private static float[] Operand(float[] x, int n, TensorShape shape)
    {
        float[] y = Reference.SliceChannels(x, n, Input, 0, shape.C);
        int kh = shape.H < Input.H ? Input.H : 1, kw = shape.W < Input.W ? Input.W : 1;
        return Reference.Pool(y, n, shape.C, Input.H, Input.W, kh, kw, kh, kw, 0, 0, shape.H, shape.W, max: false);
    }

    /// <summary>Values in [0.5, 1.5]: every quotient is well conditioned and a ReLU leaves them alone.</summary>
    private static float[] Positive(int count, int seed) => TestModels.Random(count, seed, 0.5f).Select(v => v + 1f).ToArray();

    private static TensorShape Parse(string s)
    {
        int[] d = s.Split(',').Select(int.Parse).ToArray();
        return new TensorShape(d[0], d[1], d[2]);
    }

    /// <summary>The chunks one call of a residual add (input + ReLU of input) takes at batch 1.</summary>
    private static unsafe int AddChunksAtBatch1(TensorShape shape, int threads)
    {
        Model model = TestModels.Build(TestGraphs.Graph(shape, TestGraphs.Layer("relu", "r"), TestGraphs.Layer("add", "sum", "r", "input")), Simd.Best, out _);
        var add = Assert.IsType<Binary>(model.Layers[^1]);
        float[] left = new float[shape.Size], right = new float[shape.Size], output = new float[shape.Size];
        var job = new ParallelJob();
        fixed (float* l = left, r = right, y = output)
        {
            job.Input = l;
            job.Inputs = [(nint)l, (nint)r];
            job.Output = y;
            job.Batch = 1;
            add.Forward(job, threads);
        }

        return job.Chunks;
    }
}
