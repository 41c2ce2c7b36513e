using System.Text.Json;
using CnnService.Engine.Format;
using CnnService.Engine.Onnx;
using CnnService.Engine.Onnx.Export;
using CnnService.Engine.Onnx.Import;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Onnx;

/// <summary>
/// A model keeps the tensor names its ONNX file gives its input and output (torch.onnx.export's input_names and
/// output_names), so clients can address them as they did before; a model.json model, which names none, is
/// "input" and "output"; and an export writes the names the model carries.
/// </summary>
public class OnnxTensorNameTests
{
    private static (ModelSpec Spec, WeightSet Weights) Import(string fixture) => OnnxImporter.Import(OnnxFixtureTests.Fixture(fixture));

    /// <summary>The seeded input and torch's logits for it, from torch_named.expected.json.</summary>
    private static (float[] Input, float[] Output) Expected(string fixture)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(OnnxFixtureTests.Fixture("torch_named.expected.json")));
        JsonElement entry = doc.RootElement.GetProperty(fixture);
        return (entry.GetProperty("input").EnumerateArray().Select(v => v.GetSingle()).ToArray(),
            entry.GetProperty("output").EnumerateArray().Select(v => v.GetSingle()).ToArray());
    }

    [Fact]
    public void Import_keeps_the_names_torch_exported_the_input_and_output_under()
    {
        var (spec, weights) = Import("torch_named.onnx");
        Model model = Model.Create(spec, weights);

        Assert.Equal("pixel_values", model.InputName);
        Assert.Equal("logits", model.OutputName);
    }

    [Fact]
    public void Import_of_a_file_with_the_batch_fixed_at_1_keeps_its_names_too()
    {
        var (spec, _) = Import("torch_named_batch1.onnx");

        Assert.Equal("input_1", spec.InputName);
        Assert.Equal("dense_1", spec.OutputName);
    }

    [Theory]
    [InlineData("torch_named.onnx")]
    [InlineData("torch_named_batch1.onnx")]
    public void The_named_fixtures_compute_the_logits_torch_computed(string fixture)
    {
        var (spec, weights) = Import(fixture);
        Model model = Model.Create(spec, weights);
        (float[] input, float[] expected) = Expected(fixture);

        OnnxRuntimeRunner.AssertSame(expected, OnnxRuntimeRunner.Forward(model, input, 1));
    }

    [Fact]
    public void A_version_folder_holding_a_named_model_onnx_loads_with_its_names()
    {
        using var dir = new TempDir();
        File.Copy(OnnxFixtureTests.Fixture("torch_named.onnx"), Path.Combine(dir.Path, ModelLoader.OnnxFile));

        Model model = ModelLoader.Load(dir.Path);

        Assert.Equal(("pixel_values", "logits"), (model.InputName, model.OutputName));
    }

    [Fact]
    public void A_model_json_model_is_named_input_and_output()
    {
        Model model = ModelLoader.Load(Path.Combine(Fixtures.Models, "mnist", "1"));

        Assert.Equal(("input", "output"), (model.InputName, model.OutputName));
    }

    [Fact]
    public void Export_writes_the_names_the_imported_model_carries_and_onnx_runtime_runs_it_by_them()
    {
        var (spec, weights) = Import("torch_named.onnx");
        OnnxModel exported = OnnxExporter.Export(spec, weights);
        (float[] input, float[] expected) = Expected("torch_named.onnx");

        Assert.Equal(["pixel_values"], exported.Graph.Inputs.Select(i => i.Name));
        Assert.Equal(["logits"], exported.Graph.Outputs.Select(o => o.Name));
        float[] actual = OnnxRuntimeRunner.Run(OnnxWriter.Write(exported), input, 1, new TensorShape(1, 6, 6), "pixel_values", "logits");
        OnnxRuntimeRunner.AssertSame(expected, actual);
    }

    [Fact]
    public void Export_then_import_round_trips_the_names()
    {
        var (spec, weights) = Import("torch_named_batch1.onnx");
        OnnxModel exported = OnnxExporter.Export(spec, weights);

        var (again, _) = OnnxImporter.Import(OnnxReader.Read(OnnxWriter.Write(exported), folder: null), new OnnxImportOptions());

        Assert.Equal(("input_1", "dense_1"), (again.InputName, again.OutputName));
    }

    [Fact]
    public void Export_of_a_model_json_model_names_its_tensors_input_and_output()
    {
        OnnxModel exported = OnnxExporter.Export(Path.Combine(Fixtures.Models, "mnist", "1"));

        Assert.Equal(["input"], exported.Graph.Inputs.Select(i => i.Name));
        Assert.Equal(["output"], exported.Graph.Outputs.Select(o => o.Name));
    }

    [Fact]
    public void Export_refuses_a_model_whose_input_and_output_share_a_name()
    {
        var (spec, weights) = Import("torch_named.onnx");
        ModelSpec same = new()
        {
            Name = spec.Name, Input = spec.Input, Labels = spec.Labels, Layers = spec.Layers, InputName = "x", OutputName = "x",
        };

        var e = Assert.Throws<ModelFormatException>(() => OnnxExporter.Export(same, weights));
        Assert.Contains("two different non-empty names", e.Message);
    }
}
