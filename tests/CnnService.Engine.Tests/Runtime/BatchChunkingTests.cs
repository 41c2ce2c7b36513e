using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Runtime;

/// <summary>Depth-first batches: runs of layers taking a chunk of images at a time compute exactly what whole-batch layers do.</summary>
public class BatchChunkingTests
{
    /// <summary>Every built-in architecture and every test graph (adds, concats, a squeeze-excite multiply), at every SIMD level,
    /// on batches that chunks of 2 do not divide: 7 on one thread; 19 on two, split into shares of 9 and 10; 5 on two, each layer split.
    /// Not keras-mnist where its pool runs inside its convolution (Vector512, Vector256): a lone step between the input and a dense layer is not chunked.</summary>
    public static IEnumerable<object[]> Cases() =>
        from name in Architectures.Names.Concat(TestGraphs.Names)
        from run in new (int Batch, int Threads)[] { (7, 1), (19, 2), (5, 2) }
        from level in TestModels.SimdLevels()
        where !(name == "keras-mnist" && CnnService.Engine.Kernels.ConvPool2x2.Supports((SimdLevel)level[0]))
        select new object[] { name, run.Batch, run.Threads, level[0] };

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_chunked_pass_equals_the_whole_batch_pass_bit_for_bit(string network, int batch, int threads, SimdLevel simd)
    {
        ModelSpec spec = Spec(network);
        WeightSet weights = WeightInitializer.Initialize(spec, seed: 3);
        Model chunked = Model.Create(spec, weights, new EngineOptions { Simd = simd, Threads = threads, ChunkImages = 2 });
        Model whole = Model.Create(spec, WeightInitializer.Initialize(spec, seed: 3), new EngineOptions { Simd = simd, Threads = threads, ChunkBatches = false });
        float[] x = TestModels.Random(batch * chunked.InputShape.Size, seed: 80);

        Assert.Contains(Enumerable.Range(0, chunked.Layers.Count), i => chunked.RunsLayer(i) && chunked.ImagesPerChunk(i, batch) == 2);
        Assert.Equal(TestModels.Forward(whole, x, batch), TestModels.Forward(chunked, x, batch));
    }

    [Fact]
    public void Without_chunking_every_layer_takes_the_whole_batch()
    {
        ModelSpec spec = Architectures.TinyVgg();
        Model model = Model.Create(spec, WeightInitializer.Initialize(spec, seed: 1), new EngineOptions { Threads = 1, ChunkBatches = false });

        Assert.All(Enumerable.Range(0, model.Layers.Count), i => Assert.Equal(64, model.ImagesPerChunk(i, 64)));
    }

    [Fact]
    public void Dense_layers_take_the_whole_batch_and_the_convolutions_before_them_take_chunks()
    {
        // At the scalar level, where the pool is a layer of its own (at Vector512 and Vector256 it runs inside conv1, which alone is not chunked).
        ModelSpec spec = Architectures.KerasMnist();
        Model model = Model.Create(spec, WeightInitializer.Initialize(spec, seed: 1), new EngineOptions { Threads = 1, ChunkImages = 4, Simd = SimdLevel.Scalar });

        Assert.Equal(4, model.ImagesPerChunk(0, 64));   // conv1 (its ReLU fused)
        Assert.Equal(4, model.ImagesPerChunk(2, 64));   // maxpool
        Assert.Equal(64, model.ImagesPerChunk(4, 64));  // fc1: 2 MB of weights, read once per batch
        Assert.Equal(64, model.ImagesPerChunk(6, 64));  // fc2
    }

    [Fact]
    public void A_lone_layer_between_dense_layers_is_not_chunked()
    {
        ModelSpec spec = TestModels.Spec(new TensorShape(1, 4, 4), new LayerSpec { Type = "flatten" },
            new LayerSpec { Type = "dense", Name = "a", Units = 8 }, new LayerSpec { Type = "sigmoid" }, new LayerSpec { Type = "dense", Name = "b", Units = 2 });
        Model model = Model.Create(spec, WeightInitializer.Initialize(spec, seed: 1), new EngineOptions { Threads = 1, ChunkImages = 2 });

        Assert.Equal(16, model.ImagesPerChunk(2, 16));
    }

    /// <summary>
    /// A 1x1 convolution on a 1x1 map is a dense product (EfficientNet's squeeze-and-excitation layers). With small weights it
    /// takes the matrix-vector kernel at every batch, so a chunk of it computes the bits the whole batch does, and it runs in
    /// chunks with the layers around it: batch 7 in chunks of 2, and 19 on two threads in shares of 9 and 10, which pair the
    /// images differently.
    /// </summary>
    [Theory]
    [MemberData(nameof(TestModels.SimdLevels), MemberType = typeof(TestModels))]
    public void A_1x1_convolution_on_a_1x1_map_with_small_weights_runs_in_chunks_and_gives_the_whole_batchs_bits(SimdLevel simd)
    {
        ModelSpec spec = TestModels.Spec(new TensorShape(96, 1, 1), TestGraphs.Conv("a", 4, 1, 0), new LayerSpec { Type = "sigmoid" }, TestGraphs.Conv("b", 96, 1, 0));
        foreach ((int batch, int threads) in new[] { (7, 1), (19, 2) })
        {
            Model chunked = Model.Create(spec, WeightInitializer.Initialize(spec, seed: 1), new EngineOptions { Simd = simd, Threads = threads, ChunkImages = 2 });
            Model whole = Model.Create(spec, WeightInitializer.Initialize(spec, seed: 1), new EngineOptions { Simd = simd, Threads = threads, ChunkBatches = false });
            float[] x = TestModels.Random(batch * 96, seed: batch, scale: 2f);

            Assert.All(Enumerable.Range(0, chunked.Layers.Count), i => Assert.Equal(2, chunked.ImagesPerChunk(i, batch)));
            Assert.Equal(TestModels.Forward(whole, x, batch), TestModels.Forward(chunked, x, batch));
        }
    }

    [Fact]
    public void A_1x1_convolution_on_a_1x1_map_with_large_weights_takes_the_whole_batch_as_a_dense_layer_does()
    {
        // 1024 x 512 weights (2 MB): the GEMM from 4 images, the matrix-vector kernel below, and re-reading them for every chunk
        // would cost more than the chunk saves.
        ModelSpec spec = TestModels.Spec(new TensorShape(1024, 1, 1), TestGraphs.Conv("a", 512, 1, 0), new LayerSpec { Type = "sigmoid" }, TestGraphs.Conv("b", 1024, 1, 0));
        Model model = Model.Create(spec, WeightInitializer.Initialize(spec, seed: 1), new EngineOptions { Threads = 1, ChunkImages = 2 });

        Assert.All(Enumerable.Range(0, model.Layers.Count), i => Assert.Equal(16, model.ImagesPerChunk(i, 16)));
    }

    [Fact]
    public void Chunk_images_fill_half_the_L2_with_the_widest_steps_activations()
    {
        long perImage = BatchChunking.L2Bytes / 10;

        Assert.Equal(5, BatchChunking.Images(perImage));
        Assert.Equal(1, BatchChunking.Images(BatchChunking.BudgetBytes));
    }

    [Fact]
    public void A_run_whose_one_image_outgrows_the_budget_runs_one_image_at_a_time()
    {
        Assert.Equal(1, BatchChunking.Images(BatchChunking.BudgetBytes + 1));

        // Each of the two steps reads and writes 48 MB per image: far more than any L2.
        ModelSpec spec = TestModels.Spec(new TensorShape(16, 512, 768), TestGraphs.Conv("a", 16, 1, 0), TestGraphs.Conv("b", 16, 1, 0));
        Model model = Model.Create(spec, WeightInitializer.Initialize(spec, seed: 1), new EngineOptions { Threads = 1 });

        Assert.Equal(1, model.ImagesPerChunk(0, 4));
        Assert.Equal(1, model.ImagesPerChunk(1, 4));
    }

    [Fact]
    public void One_image_at_a_time_gives_the_bits_of_the_whole_batch_at_once()
    {
        ModelSpec spec = TestModels.Spec(new TensorShape(16, 160, 192), TestGraphs.Conv("a", 16, 3, 1), TestGraphs.Conv("b", 16, 3, 1));
        WeightSet weights = WeightInitializer.Initialize(spec, seed: 1);
        Model chunked = Model.Create(spec, weights, new EngineOptions { Threads = 2 });
        Model whole = Model.Create(spec, weights, new EngineOptions { Threads = 2, ChunkBatches = false });
        Assert.Equal(1, chunked.ImagesPerChunk(0, 3));
        float[] x = TestModels.Random(3 * spec.Input.Channels * 160 * 192, seed: 5, scale: 1f);

        Assert.Equal(TestModels.Forward(whole, x, 3), TestModels.Forward(chunked, x, 3));
    }

    [Fact]
    public void A_run_of_small_maps_takes_chunks_that_fit_the_budget()
    {
        // conv1 reads 784 and writes 21,632 floats per image, the pool reads those and writes 5,408: the pool is the widest step
        // (at the scalar level, where the pool is a layer of its own).
        ModelSpec spec = Architectures.KerasMnist();
        Model model = Model.Create(spec, WeightInitializer.Initialize(spec, seed: 1), new EngineOptions { Threads = 1, Simd = SimdLevel.Scalar });

        Assert.Equal(Math.Min(64, BatchChunking.Images((21_632 + 5_408) * sizeof(float))), model.ImagesPerChunk(0, 64));
    }

    [Fact]
    public void A_tensor_read_only_inside_a_chunked_run_needs_room_for_one_chunk()
    {
        // Three 1x1 convolutions: the two tensors between them live only inside the run.
        ModelSpec spec = TestModels.Spec(new TensorShape(8, 16, 16), TestGraphs.Conv("a", 8, 1, 0), TestGraphs.Conv("b", 8, 1, 0), TestGraphs.Conv("c", 8, 1, 0));
        Model model = TestModels.Build(spec, Simd.Best, out _);
        int n = model.Layers.Count;
        int[][] inputs = Enumerable.Range(0, n).Select(i => model.InputsOf(i).Select(t => t + 1).ToArray()).ToArray();
        bool[] fused = Enumerable.Range(0, n).Select(model.IsFusedAway).ToArray();

        GraphPlan plan = GraphPlan.Create(model.Layers, inputs, fused, chunked: true, chunkImages: 4);
        GraphPlan whole = GraphPlan.Create(model.Layers, inputs, fused);

        Assert.Equal(0, plan.ArenaFloatsPerImage);
        Assert.True(plan.Local[plan.Steps[0].Output] && plan.Local[plan.Steps[1].Output]);
        Assert.Equal(4 * whole.ArenaFloatsPerImage, plan.ArenaFloats(64));
        Assert.Equal(64 * whole.ArenaFloatsPerImage, whole.ArenaFloats(64));
    }

    [Fact]
    public void A_pass_with_chunks_allocates_nothing()
    {
        ModelSpec spec = Architectures.TinyVgg();
        Model model = Model.Create(spec, WeightInitializer.Initialize(spec, seed: 1), new EngineOptions { Threads = 1, ChunkImages = 3 });
        float[] x = TestModels.Random(10 * model.InputShape.Size, seed: 1), y = new float[10 * model.OutputShape.Size];
        model.Forward(x, y, 10);

        Assert.Equal(0, Allocations.Fewest(5, () => model.Forward(x, y, 10)));
    }

    [Fact]
    public void Timing_layers_of_a_chunked_pass_gives_every_layer_that_runs_a_time()
    {
        ModelSpec spec = Architectures.LeNet5();
        Model model = Model.Create(spec, WeightInitializer.Initialize(spec, seed: 1), new EngineOptions { Threads = 1, ChunkImages = 3 });

        double[] seconds = model.TimeLayers(TestModels.Random(8 * model.InputShape.Size, seed: 2), 8, repeats: 2);

        Assert.All(Enumerable.Range(0, seconds.Length), i => Assert.True(model.RunsLayer(i, 8) == seconds[i] > 0, $"layer {i}: {seconds[i]} s"));
    }

    [Fact]
    public void Timing_layers_gives_every_layer_that_runs_a_median_no_less_than_its_best()
    {
        ModelSpec spec = Architectures.LeNet5();
        Model model = Model.Create(spec, WeightInitializer.Initialize(spec, seed: 1), new EngineOptions { Threads = 1 });

        double[] best = model.TimeLayers(TestModels.Random(4 * model.InputShape.Size, seed: 2), 4, repeats: 5, out double[] median);

        Assert.All(Enumerable.Range(0, best.Length), i => Assert.True(model.RunsLayer(i, 4) ? median[i] >= best[i] && best[i] > 0 : median[i] == 0,
            $"layer {i}: best {best[i]} s, median {median[i]} s"));
    }

    [Theory]
    [InlineData("2048K", 2L << 20)]
    [InlineData("1M", 1L << 20)]
    [InlineData("524288", 512L << 10)]
    [InlineData("abc", null)]
    [InlineData("", null)]
    [InlineData("-5K", null)]
    [InlineData("99999999999999999G", null)]
    public void Cache_sizes_read_as_sysfs_writes_them(string text, long? bytes) => Assert.Equal(bytes, BatchChunking.ParseSize(text));

    private static ModelSpec Spec(string network) => Architectures.Names.Contains(network) ? Architectures.Get(network) : TestGraphs.Get(network);
}
