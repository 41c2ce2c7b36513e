using System.Text.Json;
using CnnService.Cli;
using CnnService.Engine.Tests.Support;

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
        // Each chunk is one forward pass: a dense layer's kernel (and so its rounding) may differ between 64 images and 6.
        float[] expected = [.. temp.Forward(first[..(PredictCommand.MaxChunk * Pixels)], PredictCommand.MaxChunk),
            .. temp.Forward(first[(PredictCommand.MaxChunk * Pixels)..], 6), .. temp.Forward(second, 2)];
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
    public void Each_line_names_its_file_as_given_and_the_items_index_in_it()
    {
        using var temp = new TempModel();
        string npy = temp.PathOf("three.npy"), png = Path.Combine(Fixtures.Models, "mnist", "samples", "digit-7.png");
        NpyWriter.Write(npy, TempModel.RandomInput(3 * Pixels, seed: 16), 3, 1, 28, 28);

        CliResult r = Cnn.Run("predict", "--model", temp.ModelDir, npy, png);

        Assert.Equal(0, r.ExitCode);
        var origins = r.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement)
            .Select(j => (j.GetProperty("file").GetString(), j.GetProperty("item").GetInt64()));
        Assert.Equal([(npy, 0L), (npy, 1L), (npy, 2L), (png, 0L)], origins);
    }

    [Fact]
    public void A_model_that_ends_in_logits_gets_the_softmax_the_service_applies()
    {
        // The shipped mnist/1 with its final softmax layer removed: the same network, printing logits.
        using var temp = new TempDir();
        string withSoftmax = Path.Combine(Fixtures.Models, "mnist", "1"), logits = temp.PathOf("logits");
        Directory.CreateDirectory(logits);
        File.Copy(Path.Combine(withSoftmax, "weights.safetensors"), Path.Combine(logits, "weights.safetensors"));
        var spec = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(withSoftmax, "model.json")))!;
        var layers = spec["layers"]!.AsArray();
        Assert.Equal("softmax", layers[^1]!["type"]!.GetValue<string>());
        layers.RemoveAt(layers.Count - 1);
        File.WriteAllText(Path.Combine(logits, "model.json"), spec.ToJsonString());
        string image = Path.Combine(Fixtures.Models, "mnist", "samples", "digit-3.png");

        using var expected = JsonDocument.Parse(Assert.Single(Cnn.Run("predict", "--model", withSoftmax, "--threads", "1", image).StdoutLines));
        using var actual = JsonDocument.Parse(Assert.Single(Cnn.Run("predict", "--model", logits, "--threads", "1", image).StdoutLines));

        float[] probabilities = Probabilities(actual);
        Assert.Equal(1.0, probabilities.Sum(), 4);
        Assert.All(probabilities, p => Assert.InRange(p, 0f, 1f));
        Assert.Equal(Probabilities(expected), probabilities, (a, b) => Math.Abs(a - b) < 1e-5f);
        JsonElement best = actual.RootElement.GetProperty("top")[0];
        Assert.Equal("3", best.GetProperty("label").GetString());
        Assert.Equal(probabilities[3], best.GetProperty("probability").GetSingle());
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

    private static float[] Probabilities(JsonDocument line) =>
        line.RootElement.GetProperty("probabilities").EnumerateArray().Select(v => v.GetSingle()).ToArray();

    private static float[] Outputs(string line)
    {
        using var doc = JsonDocument.Parse(line);
        return doc.RootElement.GetProperty("probabilities").EnumerateArray().Select(e => e.GetSingle()).ToArray();
    }
}
