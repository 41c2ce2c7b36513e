using CnnService.Engine.Evaluation;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Tests.Evaluation;

public class ProbabilitiesTests
{
    [Fact]
    public void Top_indices_rank_ties_by_index_and_nan_last()
    {
        Assert.Equal([1, 3, 0, 2], Probabilities.TopIndices([0.1f, 0.5f, float.NaN, 0.5f], 5));
        Assert.Equal([1], Probabilities.TopIndices([0.1f, 0.5f], 1));
    }

    [Theory]
    [InlineData(new[] { 0.1f, 0.4f, 0.4f, 0.1f })]
    [InlineData(new[] { float.NaN, 0.1f, 0.9f })]
    [InlineData(new[] { 0.3f, float.NaN, 0.9f, float.NaN })]
    [InlineData(new[] { float.NaN, float.NaN })]
    [InlineData(new[] { float.NegativeInfinity, float.NegativeInfinity })]
    public void Argmax_is_the_first_of_the_top_indices(float[] values)
    {
        Assert.Equal(Probabilities.TopIndices(values, 1)[0], Probabilities.ArgMax(values));
    }

    [Fact]
    public void Argmax_takes_the_lowest_index_on_a_tie_and_never_a_nan()
    {
        Assert.Equal(1, Probabilities.ArgMax([0.1f, 0.4f, 0.4f, 0.1f]));
        Assert.Equal(2, Probabilities.ArgMax([float.NaN, 0.1f, 0.9f]));
        Assert.Equal(0, Probabilities.ArgMax([float.NaN, float.NaN]));
    }

    [Fact]
    public void Softmax_of_huge_logits_neither_overflows_nor_loses_their_order()
    {
        float[] values = [1000f, 999f, -1000f];
        Probabilities.Softmax(values);

        Assert.Equal(1.0, values.Sum(), 6);
        Assert.Equal(1 / (1 + MathF.Exp(-1)), values[0], 6);
        Assert.Equal(0f, values[2]);
    }

    [Fact]
    public void Outputs_of_a_model_that_ends_in_softmax_are_left_as_they_are()
    {
        ModelSpec spec = Architectures.KerasMnist();
        float[] outputs = [0.2f, 0.8f];
        Probabilities.FromOutputs(spec, outputs);

        Assert.Equal([0.2f, 0.8f], outputs);
    }

    [Fact]
    public void Outputs_of_a_model_that_ends_in_logits_get_a_softmax()
    {
        ModelSpec spec = Architectures.KerasMnist();
        var logits = new ModelSpec { Name = spec.Name, Input = spec.Input, Labels = spec.Labels, Layers = spec.Layers.SkipLast(1).ToList() };
        float[] outputs = [0f, MathF.Log(3)];
        Probabilities.FromOutputs(logits, outputs);

        Assert.Equal(0.25f, outputs[0], 6);
        Assert.Equal(0.75f, outputs[1], 6);
    }
}
