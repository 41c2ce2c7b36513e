using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Jobs;
using CnnService.Tests.Support;

namespace CnnService.Tests.Jobs;

public sealed class ModelVersionsTests
{
    private static readonly ModelSpec Spec = Architectures.KerasMnist();
    private static readonly IReadOnlyList<NamedTensor> Weights = WeightInitializer.Initialize(Spec, 1).AllFloat32().ToList();

    [Fact]
    public void The_next_version_is_one_more_than_the_highest_integer_folder()
    {
        using var folder = new TempFolder();
        foreach (string name in new[] { "1", "7", "latest", ".9.partial-abc" }) Directory.CreateDirectory(folder.Combine("mnist", name));

        Assert.Equal(7, ModelVersions.Latest(folder.Root, "mnist"));
        Assert.Equal(0, ModelVersions.Latest(folder.Root, "absent"));
    }

    [Fact]
    public void Writing_the_next_version_of_a_new_model_makes_version_one_and_then_two()
    {
        using var folder = new TempFolder();

        Assert.Equal(1, ModelVersions.WriteNext(folder.Root, "mnist", Spec, Weights));
        Assert.Equal(2, ModelVersions.WriteNext(folder.Root, "mnist", Spec, Weights));
        ModelLoader.Load(folder.Combine("mnist", "2"));
    }

    [Fact]
    public async Task Writers_racing_for_the_same_version_each_get_their_own()
    {
        using var folder = new TempFolder();

        int[] versions = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => ModelVersions.WriteNext(folder.Root, "mnist", Spec, Weights))));

        Assert.Equal([1, 2, 3, 4], versions.Order());
    }
}
