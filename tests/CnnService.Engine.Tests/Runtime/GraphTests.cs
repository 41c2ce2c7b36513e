using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Runtime;

/// <summary>Graphs run by the engine equal the same graphs run layer by layer by <see cref="GraphReference"/>.</summary>
public class GraphTests
{
    public static IEnumerable<object[]> Cases() =>
        from name in TestGraphs.Names
        from run in new (int Batch, int Threads)[] { (1, 1), (3, 2), (17, 2) }   // 17 on 2 threads: Model.Forward splits the batch
        from level in TestModels.SimdLevels()
        select new object[] { name, run.Batch, run.Threads, level[0] };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Graph_equals_its_layers_run_one_by_one(string graph, int batch, int threads, SimdLevel simd)
    {
        ModelSpec spec = TestGraphs.Get(graph);
        Model model = TestModels.Build(spec, simd, out var tensors, threads);
        float[] x = TestModels.Random(batch * model.InputShape.Size, seed: 70);

        float[][] expected = GraphReference.Run(spec, tensors, x, batch);
        TestModels.AssertClose(expected[^1], TestModels.Forward(model, x, batch));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Trace_returns_every_layers_output_of_a_graph(string graph)
    {
        ModelSpec spec = TestGraphs.Get(graph);
        Model model = TestModels.Build(spec, Simd.Best, out var tensors, threads: 2);
        float[] x = TestModels.Random(model.InputShape.Size, seed: 71);

        float[][] trace = model.Trace(x), expected = GraphReference.Run(spec, tensors, x, 1);

        Assert.Equal(spec.Layers.Count, trace.Length);
        for (int i = 0; i < trace.Length; i++) TestModels.AssertClose(expected[i], trace[i]);
    }

    public static IEnumerable<object[]> Names() => TestGraphs.Names.Select(n => new object[] { n });

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Threads_running_one_graph_model_at_once_get_identical_outputs(int threadsPerCall)
    {
        ModelSpec spec = TestGraphs.Inception();
        Model model = TestModels.Build(spec, Simd.Best, out _, threadsPerCall);
        int size = model.InputShape.Size;
        float[][] inputs = Enumerable.Range(0, 12).Select(i => TestModels.Random((i % 3 == 2 ? 17 : i % 3 + 1) * size, seed: 200 + i)).ToArray();
        float[][] expected = inputs.Select(x => TestModels.Forward(model, x, x.Length / size)).ToArray();

        var failures = new List<string>();
        var threads = Enumerable.Range(0, 6).Select(t => new Thread(() =>
        {
            for (int call = 0; call < 60; call++)
            {
                int i = (call * 5 + t) % inputs.Length;
                if (!TestModels.Forward(model, inputs[i], inputs[i].Length / size).AsSpan().SequenceEqual(expected[i]))
                {
                    lock (failures) failures.Add($"thread {t}, call {call}, input {i}");
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.Empty(failures);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Forward_of_a_graph_allocates_nothing_once_warm(string graph)
    {
        Model model = TestModels.Build(TestGraphs.Get(graph), Simd.Best, out _, threads: 1);
        float[] x = TestModels.Random(3 * model.InputShape.Size, seed: 72), y = new float[3 * model.OutputShape.Size];
        model.Forward(x, y, 3);

        Assert.Equal(0, Allocations.Fewest(5, () =>
        {
            for (int i = 0; i < 5; i++) model.Forward(x, y, 3);
        }));
    }

    [Fact]
    public void A_relu_whose_input_an_add_reads_later_leaves_that_input_alone()
    {
        // out = relu(t) + t. Run in place, the ReLU would overwrite t and the sum would be 2 relu(t).
        ModelSpec spec = TestGraphs.Graph(new TensorShape(2, 6, 6),
            TestGraphs.Conv("t", 4, 3, 1),
            TestGraphs.Layer("relu", "r", "t"),
            TestGraphs.Layer("add", "out", "r", "t"));
        AssertEqualsReference(spec);
    }

    [Fact]
    public void A_relu_whose_input_is_read_later_through_a_view_leaves_it_alone()
    {
        // The dropout is a view of t: the add reads t's memory under another name.
        ModelSpec spec = TestGraphs.Graph(new TensorShape(2, 6, 6),
            TestGraphs.Conv("t", 4, 3, 1),
            TestGraphs.Layer("dropout", "d", "t"),
            TestGraphs.Layer("relu", "r", "t"),
            TestGraphs.Layer("add", "out", "r", "d"));
        AssertEqualsReference(spec);
    }

    [Fact]
    public void An_add_whose_first_input_is_read_later_writes_a_new_tensor()
    {
        // s = t + u, out = s * t: an add over t would make it s * s.
        ModelSpec spec = TestGraphs.Graph(new TensorShape(2, 6, 6),
            TestGraphs.Conv("t", 4, 3, 1),
            TestGraphs.Conv("u", 4, 3, 1),
            TestGraphs.Layer("add", "s", "t", "u"),
            TestGraphs.Layer("mul", "out", "s", "t"));
        AssertEqualsReference(spec);
    }

    [Fact]
    public void A_graph_that_only_reads_its_input_through_views_copies_it_to_the_output()
    {
        ModelSpec spec = TestGraphs.Graph(new TensorShape(2, 3, 3), TestGraphs.Layer("dropout", "d", "input"), TestGraphs.Layer("flatten", "f"));
        Model model = TestModels.Build(spec, Simd.Best, out _);
        float[] x = TestModels.Random(2 * 18, seed: 73);

        Assert.Equal(x, TestModels.Forward(model, x, 2));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void One_image_with_its_concats_written_in_place_gives_the_bits_of_a_batch_that_copies_them(string graph)
    {
        // Batch 1 runs the plan without concat copies, batch 3 the one with them; nothing else differs.
        foreach (var level in TestModels.SimdLevels())
        {
            Model model = TestModels.Build(TestGraphs.Get(graph), (SimdLevel)level[0], out _, threads: 2);
            float[] x = TestModels.Random(model.InputShape.Size, seed: 75);

            float[] one = TestModels.Forward(model, x, 1), three = TestModels.Forward(model, [.. x, .. x, .. x], 3);

            for (int image = 0; image < 3; image++) Assert.Equal(one, three.AsSpan(image * one.Length, one.Length).ToArray());
        }
    }

    [Fact]
    public void A_concat_whose_part_is_read_after_it_leaves_that_part_alone() => AssertEqualsReference(GraphPlanTests.PartReadLater());

    [Theory]
    [InlineData("t", "t")]
    [InlineData("input", "t")]
    [InlineData("t", "input")]
    public void A_concat_of_one_tensor_twice_or_of_the_models_input_joins_copies(string first, string second) =>
        AssertEqualsReference(GraphPlanTests.TwoParts(first, second));

    private static void AssertEqualsReference(ModelSpec spec)
    {
        foreach (int batch in new[] { 1, 3 })
        {
            Model model = TestModels.Build(spec, Simd.Best, out var tensors);
            float[] x = TestModels.Random(batch * model.InputShape.Size, seed: 74);
            TestModels.AssertClose(GraphReference.Run(spec, tensors, x, batch)[^1], TestModels.Forward(model, x, batch));
        }
    }
}
