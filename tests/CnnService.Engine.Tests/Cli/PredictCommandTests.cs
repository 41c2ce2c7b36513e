using System.Text.Json;
using CnnService.Cli;

namespace CnnService.Engine.Tests.Cli;

public class PredictCommandTests
{
    private const int Pixels = 28 * 28;

    [Fact]
    public void Predict_prints_one_json_line_per_item_whose_outputs_equal_Forward()
    {
        using var temp = new TempModel();
        float[] input = TempModel.RandomInput(3 * Pixels, seed: 11);
        string file = temp.PathOf("batch.npy");
        NpyWriter.Write(file, input, 3, 1, 28, 28);

        CliResult r = Cnn.Run("predict", "--model", temp.ModelDir, "--threads", "1", file);

        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        float[] expected = temp.Forward(input, 3);
        Assert.Equal(3, r.StdoutLines.Length);
        for (int i = 0; i < 3; i++)
            Assert.Equal(expected[(i * 10)..((i + 1) * 10)], Outputs(r.StdoutLines[i]));
    }

    [Fact]
    public void Predict_accepts_a_single_item_shaped_C_H_W()
    {
        using var temp = new TempModel();
        float[] input = TempModel.RandomInput(Pixels, seed: 12);
        string file = temp.PathOf("one.npy");
        NpyWriter.Write(file, input, 1, 28, 28);

        CliResult r = Cnn.Run("predict", "--model", temp.ModelDir, file);

        Assert.Equal(0, r.ExitCode);
        Assert.Equal(temp.Forward(input, 1), Outputs(Assert.Single(r.StdoutLines)));
    }

    [Fact]
    public void Predict_runs_more_than_one_chunk_and_several_files_in_order()
    {
        using var temp = new TempModel();
        int n = PredictCommand.MaxChunk + 6;
        float[] first = TempModel.RandomInput(n * Pixels, seed: 13), second = TempModel.RandomInput(2 * Pixels, seed: 14);
        NpyWriter.Write(temp.PathOf("a.npy"), first, n, 1, 28, 28);
        NpyWriter.Write(temp.PathOf("b.npy"), second, 2, 1, 28, 28);

        CliResult r = Cnn.Run("predict", "--model", temp.ModelDir, temp.PathOf("a.npy"), temp.PathOf("b.npy"));

        Assert.Equal(0, r.ExitCode);
        float[] expected = [.. temp.Forward(first, n), .. temp.Forward(second, 2)];
        Assert.Equal(n + 2, r.StdoutLines.Length);
        Assert.Equal(expected, r.StdoutLines.SelectMany(Outputs).ToArray());
    }

    [Fact]
    public void Predict_lists_the_top_five_outputs_largest_first_with_their_labels()
    {
        using var temp = new TempModel();
        float[] input = TempModel.RandomInput(Pixels, seed: 15);
        NpyWriter.Write(temp.PathOf("x.npy"), input, 1, 1, 28, 28);

        CliResult r = Cnn.Run("predict", "--model", temp.ModelDir, temp.PathOf("x.npy"));

        using var doc = JsonDocument.Parse(Assert.Single(r.StdoutLines));
        float[] outputs = temp.Forward(input, 1);
        int[] expectedOrder = Enumerable.Range(0, 10).OrderByDescending(i => outputs[i]).ThenBy(i => i).Take(5).ToArray();
        JsonElement[] top = doc.RootElement.GetProperty("top").EnumerateArray().ToArray();
        Assert.Equal(expectedOrder, top.Select(t => t.GetProperty("index").GetInt32()));
        Assert.Equal(expectedOrder.Select(i => temp.Spec.Labels[i]), top.Select(t => t.GetProperty("label").GetString()));
        Assert.Equal(expectedOrder.Select(i => outputs[i]), top.Select(t => t.GetProperty("probability").GetSingle()));
    }

    [Fact]
    public void Top_indices_rank_ties_by_index_and_nan_last()
    {
        Assert.Equal([1, 3, 0, 2], PredictCommand.TopIndices([0.1f, 0.5f, float.NaN, 0.5f], 5));
        Assert.Equal([1], PredictCommand.TopIndices([0.1f, 0.5f], 1));
    }

    [Fact]
    public void Predict_rejects_an_array_whose_shape_does_not_match_the_model_input()
    {
        using var temp = new TempModel();
        NpyWriter.Write(temp.PathOf("rgb.npy"), new float[2 * 3 * Pixels], 2, 3, 28, 28);

        CliResult r = Cnn.Run("predict", "--model", temp.ModelDir, temp.PathOf("rgb.npy"));

        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"cnn: {temp.PathOf("rgb.npy")}: shape (2, 3, 28, 28) does not match the model's input [1,28,28]; expected (N, 1, 28, 28) or (1, 28, 28)", r.Error);
    }

    [Fact]
    public void Predict_checks_every_file_before_printing_anything()
    {
        using var temp = new TempModel();
        NpyWriter.Write(temp.PathOf("good.npy"), new float[Pixels], 1, 28, 28);
        temp.WriteFile("bad.npy", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

        CliResult r = Cnn.Run("predict", "--model", temp.ModelDir, temp.PathOf("good.npy"), temp.PathOf("bad.npy"));

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("bad.npy: not a NumPy .npy file", r.Error);
    }

    [Fact]
    public void Predict_without_files_is_a_usage_error()
    {
        using var temp = new TempModel();
        CliResult r = Cnn.Run("predict", "--model", temp.ModelDir);

        Assert.Equal(2, r.ExitCode);
        Assert.Equal("cnn: 'cnn predict' needs at least one .npy or image FILE (see 'cnn predict --help')", r.Error);
    }

    [Fact]
    public void Predict_of_a_missing_file_fails_naming_it()
    {
        using var temp = new TempModel();
        CliResult r = Cnn.Run("predict", "--model", temp.ModelDir, temp.PathOf("nope.npy"));

        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"cnn: {temp.PathOf("nope.npy")}: cannot open: no such file", r.Error);
    }

    private static float[] Outputs(string line)
    {
        using var doc = JsonDocument.Parse(line);
        return doc.RootElement.GetProperty("outputs").EnumerateArray().Select(e => e.GetSingle()).ToArray();
    }
}
