namespace CnnService.Engine.Tests.Cli;

public class ProgramTests
{
    [Fact]
    public void Help_lists_every_command_and_exits_zero()
    {
        CliResult r = Cnn.Run("--help");

        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        foreach (string verb in new[] { "info", "predict", "train", "evaluate", "bench" })
            Assert.Contains(r.StdoutLines, l => l.TrimStart().StartsWith(verb + " ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("info")]
    [InlineData("predict")]
    [InlineData("train")]
    [InlineData("evaluate")]
    [InlineData("bench")]
    public void Verb_help_prints_its_usage_and_ignores_other_arguments(string verb)
    {
        CliResult r = Cnn.Run(verb, "--bogus", "--help");

        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith($"usage: cnn {verb}", r.Stdout);
        Assert.Equal(r.Stdout, Cnn.Run("help", verb).Stdout);
    }

    [Fact]
    public void A_missing_model_directory_fails_with_exit_1_and_one_line()
    {
        string missing = Path.Combine(Path.GetTempPath(), "cnnservice-cli-no-such-dir-" + Guid.NewGuid().ToString("N"));
        CliResult r = Cnn.Run("info", "--model", missing);

        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"cnn: {missing}: no such model directory.", r.Error);
    }

    [Fact]
    public void A_model_directory_without_weights_fails_naming_the_file()
    {
        using var temp = new TempModel();
        File.Delete(Path.Combine(temp.ModelDir, "weights.safetensors"));

        CliResult r = Cnn.Run("info", "--model", temp.ModelDir);

        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith($"cnn: {Path.Combine(temp.ModelDir, "weights.safetensors")}: missing", r.Error);
    }

    [Fact]
    public void A_corrupt_model_json_fails_with_exit_1_and_no_stack_trace()
    {
        using var temp = new TempModel();
        File.WriteAllText(Path.Combine(temp.ModelDir, "model.json"), "{ not json");

        CliResult r = Cnn.Run("predict", "--model", temp.ModelDir, "x.npy");

        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith($"cnn: {Path.Combine(temp.ModelDir, "model.json")}", r.Error);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Fact]
    public void An_unknown_option_is_a_usage_error_with_exit_2()
    {
        CliResult r = Cnn.Run("info", "--arch", "lenet5", "--verbose");

        Assert.Equal(2, r.ExitCode);
        Assert.Equal("cnn: unknown option '--verbose' for 'cnn info' (see 'cnn info --help')", r.Error);
    }

    [Fact]
    public void An_unknown_command_is_a_usage_error_with_exit_2()
    {
        CliResult r = Cnn.Run("fit");

        Assert.Equal(2, r.ExitCode);
        Assert.Equal("cnn: unknown command 'fit' (commands: info, predict, train, evaluate, bench, export, import; see 'cnn --help')", r.Error);
    }

    [Fact]
    public void No_arguments_is_a_usage_error_with_exit_2()
    {
        CliResult r = Cnn.Run();

        Assert.Equal(2, r.ExitCode);
        Assert.Equal("cnn: no command given (see 'cnn --help')", r.Error);
    }

    [Theory]
    [InlineData("--model", "cnn: option --model needs a value")]
    [InlineData("--arch=", "cnn: option --arch needs a value")]
    public void An_option_without_its_value_is_a_usage_error(string arg, string message)
    {
        CliResult r = Cnn.Run("info", arg);

        Assert.Equal(2, r.ExitCode);
        Assert.Equal(message, r.Error);
    }

    [Fact]
    public void An_option_given_twice_is_a_usage_error()
    {
        CliResult r = Cnn.Run("bench", "--arch", "lenet5", "--batch", "1", "--batch=2");

        Assert.Equal(2, r.ExitCode);
        Assert.Equal("cnn: option --batch given more than once", r.Error);
    }
}
