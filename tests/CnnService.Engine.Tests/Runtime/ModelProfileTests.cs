using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Runtime;

/// <summary>
/// <see cref="Model.ProfileLayers"/>: each layer's time per pass, and how it splits between the calling thread and the
/// helpers. Nothing here asserts how long anything took, only what the figures must satisfy on any machine.
/// </summary>
public class ModelProfileTests
{
    private static (Model Model, LayerProfile Profile) Profile(int threads)
    {
        ModelSpec spec = Architectures.LeNet5();
        Model model = Model.Create(spec, WeightInitializer.Initialize(spec, seed: 1), new EngineOptions { Threads = threads });
        return (model, model.ProfileLayers(TestModels.Random(model.InputShape.Size, seed: 2), 1, repeats: 5));
    }

    [Fact]
    public void On_one_thread_each_layer_that_runs_is_all_the_callers()
    {
        var (model, p) = Profile(threads: 1);

        Assert.All(Enumerable.Range(0, model.Layers.Count), i => Assert.True(
            model.RunsLayer(i) ? p.CallerMedian[i] > 0 && p.CallerMedian[i] <= p.Median[i] && p.HelpersMedian[i] == 0 : p.CallerMedian[i] == 0 && p.HelpersMedian[i] == 0,
            $"layer {i}: median {p.Median[i]} s, caller {p.CallerMedian[i]} s, helpers {p.HelpersMedian[i]} s"));
    }

    [Fact]
    public void On_two_threads_neither_share_of_a_layer_exceeds_the_layers_time()
    {
        var (model, p) = Profile(threads: 2);

        // Each pass, the caller's chunks and the one helper's run inside the layer's call: so do their medians.
        Assert.All(Enumerable.Range(0, model.Layers.Count), i => Assert.True(
            p.CallerMedian[i] >= 0 && p.CallerMedian[i] <= p.Median[i] && p.HelpersMedian[i] >= 0 && p.HelpersMedian[i] <= p.Median[i],
            $"layer {i}: median {p.Median[i]} s, caller {p.CallerMedian[i]} s, helpers {p.HelpersMedian[i]} s"));
    }
}
