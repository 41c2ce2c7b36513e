using CnnService.Engine.Format;
using CnnService.Engine.Training;
using CnnService.Engine.Training.Optimizers;

namespace CnnService.Engine.Tests.Training;

public class OptimizerTests
{
    private static Parameter OneWeight(float value, float grad)
    {
        var p = new Parameter("w", [1], [value]);
        p.Grad[0] = grad;
        return p;
    }

    [Fact]
    public void Adam_takes_keras_steps_with_bias_correction_and_epsilon_outside_it()
    {
        Parameter w = OneWeight(1f, 0.5f);
        var adam = new Adam([w], new OptimizerOptions());
        double m = 0, v = 0, expected = 1;

        for (int t = 1; t <= 3; t++)
        {
            adam.Step(1e-3f);
            m = 0.9 * m + 0.1 * 0.5;
            v = 0.999 * v + 0.001 * 0.25;
            expected -= 1e-3 * Math.Sqrt(1 - Math.Pow(0.999, t)) / (1 - Math.Pow(0.9, t)) * m / (Math.Sqrt(v) + 1e-7);
        }

        Assert.Equal(expected, w.Value[0], 6);
        Assert.Equal(3, adam.Steps);
    }

    [Fact]
    public void Sgd_with_momentum_starts_its_velocity_at_the_first_gradient()
    {
        Parameter w = OneWeight(1f, 2f);
        var sgd = new Sgd([w], new OptimizerOptions { Name = "sgd", Momentum = 0.9f });

        sgd.Step(0.1f); // b = 2, w = 1 - 0.2
        sgd.Step(0.1f); // b = 0.9*2 + 2 = 3.8, w = 0.8 - 0.38

        Assert.Equal(0.42f, w.Value[0], 5);
    }

    [Fact]
    public void Nesterov_momentum_looks_ahead_by_the_velocity()
    {
        Parameter w = OneWeight(1f, 2f);
        var sgd = new Sgd([w], new OptimizerOptions { Name = "sgd", Momentum = 0.5f, Nesterov = true });

        sgd.Step(0.1f); // b = 2, g = 2 + 0.5*2 = 3, w = 1 - 0.3

        Assert.Equal(0.7f, w.Value[0], 6);
    }

    [Fact]
    public void Weight_decay_adds_the_l2_term_to_the_gradient()
    {
        Parameter w = OneWeight(2f, 0f);
        var sgd = new Sgd([w], new OptimizerOptions { Name = "sgd", WeightDecay = 0.1f });

        sgd.Step(1f); // g = 0 + 0.1*2

        Assert.Equal(1.8f, w.Value[0], 6);
    }

    [Fact]
    public void Parameters_that_are_not_trainable_are_left_alone()
    {
        var running = new Parameter("bn.running_mean", [1], [3f], trainable: false);
        var adam = new Adam([running], new OptimizerOptions());

        adam.Step(1f);

        Assert.Equal(3f, running.Value[0]);
    }

    [Fact]
    public void Optimizer_state_round_trips_so_a_resumed_step_matches()
    {
        Parameter a = OneWeight(1f, 0.3f), b = OneWeight(1f, 0.3f);
        var first = new Adam([a], new OptimizerOptions());
        first.Step(0.01f);
        b.Value[0] = a.Value[0];
        var second = new Adam([b], new OptimizerOptions());

        second.ImportState(WeightSet.FromTensors(first.ExportState()), first.Steps);
        first.Step(0.01f);
        second.Step(0.01f);

        Assert.Equal(a.Value[0], b.Value[0]);
    }

    [Theory]
    [InlineData("constant", 0, 0.1f)]
    [InlineData("constant", 99, 0.1f)]
    [InlineData("step", 9, 0.1f)]
    [InlineData("step", 10, 0.01f)]
    [InlineData("step", 25, 0.001f)]
    [InlineData("cosine", 0, 0.1f)]
    [InlineData("cosine", 50, 0.05f)]
    [InlineData("cosine", 100, 0f)]
    public void The_schedule_gives_the_rate_of_each_step(string kind, long step, float expected)
    {
        var schedule = new LearningRateSchedule { Kind = kind, StepEpochs = 1, Gamma = 0.1f };

        Assert.Equal(expected, schedule.At(0.1f, step, stepsPerEpoch: 10, totalSteps: 100), 6);
    }
}
