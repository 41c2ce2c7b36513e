using CnnService.Engine.Format;
using static CnnService.Engine.Tests.Format.SafeTensorsBytes;

namespace CnnService.Engine.Tests.Format;

public class WeightSetTests
{
    private static WeightSet Set(params NamedTensor[] tensors) => Parse(Write(tensors));

    private static NamedTensor Zeros(string name, params int[] shape) => new(name, shape, new float[shape.Aggregate(1, (a, b) => a * b)]);

    [Fact]
    public void Take_ReturnsTheData() =>
        Assert.Equal([1f, 2f, 3f, 4f], Set(new NamedTensor("w", [2, 2], [1, 2, 3, 4])).Take("w", 2, 2));

    [Fact]
    public void Take_ReturnsAFreshCopyEachTime()
    {
        var set = Set(new NamedTensor("w", [2], [1, 2]));
        var first = set.Take("w", 2);
        first[0] = 99;
        Assert.Equal([1f, 2f], set.Take("w", 2));
    }

    [Fact]
    public void Take_WrongShape_NamesTensorAndBothShapes()
    {
        var e = Assert.Throws<ModelFormatException>(() => Set(Zeros("conv1.weight", 32, 1, 5, 5)).Take("conv1.weight", 32, 1, 3, 3));
        Assert.Equal("weights.safetensors: tensor 'conv1.weight' has shape [32,1,5,5], expected [32,1,3,3]", e.Message);
    }

    [Fact]
    public void Take_SameElementCountButDifferentRank_IsAShapeError() =>
        Assert.Throws<ModelFormatException>(() => Set(Zeros("b", 10)).Take("b", 1, 10));

    [Fact]
    public void Take_Missing_NamesTheTensor()
    {
        var e = Assert.Throws<ModelFormatException>(() => Set(Zeros("fc1.weight", 2, 2)).Take("fc1.bias", 2));
        Assert.Equal("weights.safetensors: tensor 'fc1.bias' is missing", e.Message);
    }

    [Fact]
    public void Take_NonFloat32_NamesTheDtype()
    {
        var set = Parse(Build("""{"x":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}""", 4));
        var e = Assert.Throws<ModelFormatException>(() => set.Take("x", 2));
        Assert.Equal("weights.safetensors: tensor 'x' has dtype F16, expected F32", e.Message);
    }

    [Fact]
    public void EnsureAllTaken_ReportsUntakenTensorsSorted()
    {
        var set = Set(Zeros("foo", 1), Zeros("used", 1), Zeros("bar", 1));
        set.Take("used", 1);
        var e = Assert.Throws<ModelFormatException>(set.EnsureAllTaken);
        Assert.Equal("weights.safetensors: unexpected tensors 'bar', 'foo' (not used by any layer)", e.Message);
    }

    [Fact]
    public void EnsureAllTaken_ManyExtras_ListsTheFirstTwentyAndCountsTheRest()
    {
        var set = Set([.. Enumerable.Range(0, 25).Select(i => Zeros($"t{i:00}", 1))]);
        var e = Assert.Throws<ModelFormatException>(set.EnsureAllTaken);
        Assert.Contains("'t19' and 5 more", e.Message);
        Assert.DoesNotContain("'t20'", e.Message);
    }

    [Fact]
    public void EnsureAllTaken_AllTaken_Passes()
    {
        var set = Set(Zeros("a", 1), Zeros("b", 2));
        set.Take("a", 1);
        set.Take("b", 2);
        set.EnsureAllTaken();
    }

    [Fact]
    public void FailedTake_DoesNotMarkTheTensorTaken()
    {
        var set = Set(Zeros("a", 2));
        Assert.Throws<ModelFormatException>(() => set.Take("a", 3));
        Assert.Throws<ModelFormatException>(set.EnsureAllTaken);
    }

    [Fact]
    public void Ignore_MarksAPresentTensorTaken()
    {
        var set = Set(Zeros("bn.num_batches_tracked", 1));
        set.Ignore("bn.num_batches_tracked");
        set.EnsureAllTaken();
    }

    [Fact]
    public void Ignore_AbsentTensor_IsFine()
    {
        var set = Set(Zeros("a", 1));
        set.Ignore("bn.num_batches_tracked");
        set.Take("a", 1);
        set.EnsureAllTaken();
    }

    [Fact]
    public void Ignore_AcceptsNonFloatDtypes()
    {
        var set = Parse(Build("""{"n":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}""", 8));
        set.Ignore("n");
        set.EnsureAllTaken();
    }

    [Fact]
    public void ShapeAndContains_DescribeTensorsWithoutTakingThem()
    {
        var set = Set(Zeros("w", 4, 3));
        Assert.True(set.Contains("w"));
        Assert.False(set.Contains("v"));
        Assert.Equal([4, 3], set.ShapeOf("w"));
        Assert.Throws<ModelFormatException>(set.EnsureAllTaken);
    }

    [Fact]
    public void ShapeOf_Missing_IsAModelFormatException() =>
        Assert.Contains("'v' is missing", Assert.Throws<ModelFormatException>(() => Set(Zeros("w", 1)).ShapeOf("v")).Message);

    [Fact]
    public void ShapeOf_ReturnsACopy()
    {
        var set = Set(Zeros("w", 4, 3));
        set.ShapeOf("w")[0] = 7;
        Assert.Equal([4, 3], set.ShapeOf("w"));
    }

    [Fact]
    public void Names_AreInFileOrder() =>
        Assert.Equal(["b", "a"], Parse(Build("""{"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8)).Names);

    [Fact]
    public void FromTensors_CopiesTheData()
    {
        float[] data = [1, 2];
        var set = WeightSet.FromTensors([new NamedTensor("w", [2], data)]);
        data[0] = 99;
        Assert.Equal([1f, 2f], set.Take("w", 2));
        Assert.Equal("<memory>", set.FileName);
        Assert.Empty(set.Metadata);
    }

    [Fact]
    public void FromTensors_ErrorsUseTheGivenFileName() =>
        Assert.StartsWith("mine: ", Assert.Throws<ModelFormatException>(() => WeightSet.FromTensors([], "mine").Take("x")).Message);

    [Fact]
    public void FromTensors_ShapeNotMatchingData_IsAnArgumentException() =>
        Assert.Throws<ArgumentException>(() => WeightSet.FromTensors([new NamedTensor("w", [3], [1, 2])]));

    [Fact]
    public void FromTensors_DuplicateNames_IsAnArgumentException() =>
        Assert.Throws<ArgumentException>(() => WeightSet.FromTensors([Zeros("w", 1), Zeros("w", 1)]));

    [Fact]
    public void AllFloat32_SkipsOtherDtypes()
    {
        var set = Parse(Build("""{"n":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""",
            [.. new byte[8], .. Floats(5)]));
        var all = set.AllFloat32().ToList();
        Assert.Equal("w", Assert.Single(all).Name);
        Assert.Equal([5f], all[0].Data);
    }
}
