using System.Text.Json.Nodes;
using CnnService.Engine.Format;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Runtime;

/// <summary>Where a measured plan's choices are kept (<see cref="PlanCache"/>): a second load takes them instead of measuring,
/// a file carries them to the next process, and a file that is not a plan cache, or a choice the layer cannot take, is
/// measured again rather than trusted.</summary>
public class PlanCacheTests
{
    private static ModelSpec Spec() => TestModels.Spec(new TensorShape(16, 20, 56),
        new LayerSpec { Type = "conv2d", Name = "conv", Filters = 64, Kernel = Pair.Square(3), Padding = Padding.Of(1, 1) });

    [SimdFact(SimdLevel.Vector256)]
    public void A_second_load_takes_the_choice_from_the_cache_without_measuring()
    {
        var cache = new PlanCache();
        MeasuredPlanTests.Build(Spec(), MeasuredPlanTests.Clock(ConvLowering.Im2Col, 1.0, others: 2.0), cache: cache);
        int calls = 0;

        Model again = MeasuredPlanTests.Build(Spec(), (_, _) => ++calls, cache: cache);

        Assert.Equal(0, calls);
        LoweringChoice choice = again.MeasuredPlan[0];
        Assert.True(choice.FromCache);
        Assert.Equal(ConvLowering.Im2Col, choice.Lowering);
        Assert.Equal("im2col", ((Conv2D)again.RunningLayer(0)).Lowering);
    }

    [SimdFact(SimdLevel.Vector256)]
    public void Another_thread_count_is_measured_again()
    {
        var cache = new PlanCache();
        MeasuredPlanTests.Build(Spec(), MeasuredPlanTests.Clock(ConvLowering.Im2Col, 1.0, others: 2.0), cache: cache);
        int calls = 0;

        Model.Create(Spec(), WeightInitializer.Initialize(Spec(), 1),
            new EngineOptions { Threads = 2, Plan = PlanMode.Measure, PlanCache = cache, PlanTimer = (_, _) => ++calls });

        Assert.NotEqual(0, calls);
        Assert.Equal(2, cache.Count);
    }

    [SimdFact(SimdLevel.Vector256)]
    public void Choices_saved_to_a_file_are_read_by_a_new_cache()
    {
        using var dir = new TempDir();
        string path = dir.File("plans/cache.json");
        MeasuredPlanTests.Build(Spec(), MeasuredPlanTests.Clock(ConvLowering.Im2Col, 1.0, others: 2.0), cache: new PlanCache(path));

        var reread = new PlanCache(path);
        Model model = MeasuredPlanTests.Build(Spec(), (_, _) => throw new InvalidOperationException("measured again"), cache: reread);

        Assert.Null(reread.LoadError);
        Assert.Equal(1, reread.Count);
        Assert.True(model.MeasuredPlan[0].FromCache);
        Assert.Equal("im2col", ((Conv2D)model.RunningLayer(0)).Lowering);
    }

    [SimdFact(SimdLevel.Vector256)]
    public void The_file_names_each_layer_shape_with_its_choice_and_times()
    {
        using var dir = new TempDir();
        string path = dir.File("cache.json");

        Model model = MeasuredPlanTests.Build(Spec(), MeasuredPlanTests.Clock(ConvLowering.Im2Col, 1.0, others: 2.0), cache: new PlanCache(path));

        JsonObject plans = JsonNode.Parse(File.ReadAllText(path))!["plans"]!.AsObject();
        (string key, JsonNode? entry) = Assert.Single(plans);
        Assert.StartsWith(HostCpu.Signature, key);
        Assert.Contains("conv2d 16x20x56 -> 64, kernel 3x3, stride 1x1, padding 1,1,1,1", key);
        Assert.Equal("im2col", (string?)entry!["lowering"]);
        Assert.Equal(((Conv2D)model.RunningLayer(0)).Candidates.Select(c => c.Name()).Order(), entry["ms"]!.AsObject().Select(e => e.Key).Order());
    }

    [SimdTheory(SimdLevel.Vector256)]
    [InlineData("not json at all")]
    [InlineData("[1, 2, 3]")]
    [InlineData("{\"format\": 2, \"plans\": {}}")]
    [InlineData("{\"format\": \"1\", \"plans\": {}}")]
    [InlineData("{\"format\": 1, \"plans\": []}")]
    public void A_file_that_is_not_a_plan_cache_is_ignored_and_rewritten(string text)
    {
        using var dir = new TempDir();
        string path = dir.File("cache.json");
        File.WriteAllText(path, text);

        var cache = new PlanCache(path);
        MeasuredPlanTests.Build(Spec(), MeasuredPlanTests.Clock(ConvLowering.Im2Col, 1.0, others: 2.0), cache: cache);

        Assert.NotNull(cache.LoadError);
        Assert.Contains(path, cache.LoadError);
        var reread = new PlanCache(path);
        Assert.Null(reread.LoadError);
        Assert.Equal(1, reread.Count);
    }

    [SimdTheory(SimdLevel.Vector256)]
    [InlineData("pointwise")]        // a lowering a 3x3 layer cannot take
    [InlineData("fft")]              // no such lowering
    public void A_cached_choice_the_layer_cannot_take_is_measured_again(string lowering)
    {
        using var dir = new TempDir();
        string path = dir.File("cache.json");
        Model probe = MeasuredPlanTests.Build(Spec(), MeasuredPlanTests.Clock(ConvLowering.Im2Col, 1.0, others: 2.0), cache: new PlanCache(path));
        JsonObject root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        JsonObject entry = root["plans"]!.AsObject().Single().Value!.AsObject();
        entry["lowering"] = lowering;
        entry["ms"]![lowering] = 0.5;
        File.WriteAllText(path, root.ToJsonString());
        int calls = 0;

        Model model = MeasuredPlanTests.Build(Spec(), (c, l) => { calls++; return l == ConvLowering.Im2Col ? 1.0 : 2.0; }, cache: new PlanCache(path));

        Assert.NotEqual(0, calls);
        Assert.False(model.MeasuredPlan[0].FromCache);
        Assert.Equal(((Conv2D)probe.RunningLayer(0)).Lowering, ((Conv2D)model.RunningLayer(0)).Lowering);
    }

    [SimdFact(SimdLevel.Vector256)]
    public void A_cache_that_cannot_be_saved_keeps_its_choices_in_memory_and_says_why()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("file"), "a file, not a folder");
        var cache = new PlanCache(dir.File("file/cache.json"));

        Model model = MeasuredPlanTests.Build(Spec(), MeasuredPlanTests.Clock(ConvLowering.Im2Col, 1.0, others: 2.0), cache: cache);

        Assert.Equal("im2col", ((Conv2D)model.RunningLayer(0)).Lowering);
        Assert.NotNull(cache.SaveError);
        Assert.Equal(1, cache.Count);
        Assert.Equal(["file"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName));
    }
}
