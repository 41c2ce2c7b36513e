using CnnService.Engine.Format;
using CnnService.Engine.Onnx;
using CnnService.Engine.Onnx.Export;
using CnnService.Engine.Onnx.Import;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;
using Xunit.Abstractions;

namespace CnnService.Engine.Tests.Onnx;

/// <summary>
/// Whole models exported to ONNX: ONNX Runtime gives the engine's outputs for real images, and the file
/// (with its config.json) imports back to a model that gives them too.
/// </summary>
public class OnnxExportRoundTripTests(ITestOutputHelper log)
{
    private const double Tolerance = 1e-5;

    /// <summary>Every version folder under models/ (read from disk, so a newly shipped model is covered without a test edit).</summary>
    public static IEnumerable<object[]> ShippedModels() =>
        Directory.GetDirectories(Fixtures.Models)
            .SelectMany(Directory.GetDirectories)
            .Where(ModelLoader.HasModel)
            .Select(d => new object[] { Path.GetRelativePath(Fixtures.Models, d).Replace('\\', '/') })
            .OrderBy(d => (string)d[0], StringComparer.Ordinal);

    public static IEnumerable<object[]> SeedArchitectures() => CnnService.Engine.Runtime.Architectures.Names.Select(n => new object[] { n });

    [Fact]
    public void There_are_shipped_models_to_check() => Assert.NotEmpty(ShippedModels());

    [Theory]
    [MemberData(nameof(ShippedModels))]
    public void A_shipped_model_exported_runs_in_onnx_runtime_to_the_engines_outputs_at_batch_1_and_2(string version)
    {
        var (spec, weights) = ModelLoader.Read(Path.Combine(Fixtures.Models, version));
        byte[] onnx = OnnxWriter.Write(OnnxExporter.Export(spec, weights));
        Model model = ModelLoader.Load(Path.Combine(Fixtures.Models, version));
        foreach (int batch in new[] { 1, 2 })
        {
            float[] input = OnnxRuntimeRunner.RealInputs(spec.Input, batch, fashion: version.Contains("fashion"));
            float[] expected = OnnxRuntimeRunner.Forward(model, input, batch);
            float[] actual = OnnxRuntimeRunner.Run(onnx, input, batch, model.InputShape);
            double diff = OnnxRuntimeRunner.RelativeMaxDiff(expected, actual);
            log.WriteLine($"{version} batch {batch}: max |engine - onnxruntime| / max |engine| = {diff:E3}");
            OnnxRuntimeRunner.AssertSame(expected, actual, Tolerance);
        }
    }

    [Theory]
    [MemberData(nameof(ShippedModels))]
    public void A_shipped_model_without_its_final_softmax_gives_onnx_runtime_the_same_logits(string version)
    {
        // A confident softmax hides differences in the logits under probabilities of 0 and 1: compare before it too.
        string dir = Path.Combine(Fixtures.Models, version);
        var (spec, _) = ModelLoader.Read(dir);
        Assert.Equal("softmax", spec.Layers[^1].Type);
        ModelSpec logits = WithoutLastLayer(spec);
        byte[] onnx = OnnxWriter.Write(OnnxExporter.Export(logits, ModelLoader.Read(dir).Weights));
        Model model = Model.Create(logits, ModelLoader.Read(dir).Weights);
        float[] input = OnnxRuntimeRunner.RealInputs(spec.Input, 2, fashion: version.Contains("fashion"));
        float[] expected = OnnxRuntimeRunner.Forward(model, input, 2);
        double diff = OnnxRuntimeRunner.RelativeMaxDiff(expected, OnnxRuntimeRunner.Run(onnx, input, 2, model.InputShape));
        log.WriteLine($"{version} logits batch 2: {diff:E3}");
        Assert.True(diff <= Tolerance, $"logits differ by {diff:E3}");
    }

    private static ModelSpec WithoutLastLayer(ModelSpec spec) => new()
    {
        Format = spec.Format, Name = spec.Name, Description = spec.Description, Input = spec.Input, Labels = spec.Labels,
        Layers = spec.Layers.Take(spec.Layers.Count - 1).ToArray(),
    };

    [Theory]
    [MemberData(nameof(ShippedModels))]
    public void A_shipped_model_exported_with_its_config_imports_back_to_the_same_outputs_and_input_spec(string version)
    {
        var (spec, weights) = ModelLoader.Read(Path.Combine(Fixtures.Models, version));
        Model original = ModelLoader.Load(Path.Combine(Fixtures.Models, version));
        Model imported = ReImport(spec, weights, out ModelSpec back);

        Assert.Equal(spec.Name, back.Name);
        Assert.Equal(spec.Description, back.Description);
        Assert.Equal(spec.Labels, back.Labels);
        Assert.Equal(spec.Input.Color, back.Input.Color);
        Assert.Equal(spec.Input.Scale, back.Input.Scale);
        Assert.Equal(spec.Input.Mean, back.Input.Mean);
        Assert.Equal(spec.Input.Std, back.Input.Std);
        Assert.Equal(spec.Input.Extra["preprocess"]?.ToJsonString(), back.Input.Extra["preprocess"]?.ToJsonString());  // mnist's centring
        float[] input = OnnxRuntimeRunner.RealInputs(spec.Input, 2, fashion: version.Contains("fashion"));
        double diff = OnnxRuntimeRunner.RelativeMaxDiff(OnnxRuntimeRunner.Forward(original, input, 2), OnnxRuntimeRunner.Forward(imported, input, 2));
        log.WriteLine($"{version} re-imported: max diff / max output = {diff:E3}");
        Assert.True(diff <= Tolerance, $"re-imported model differs by {diff:E3}");
    }

    [Theory]
    [MemberData(nameof(SeedArchitectures))]
    public void A_seed_architecture_with_random_weights_runs_in_onnx_runtime_to_the_engines_outputs_at_opset_13_and_17(string arch)
    {
        ModelSpec spec = CnnService.Engine.Runtime.Architectures.Get(arch);
        Model model = Model.Create(spec, WeightInitializer.Initialize(spec, 7));
        foreach (int opset in new[] { 13, 17 })
        {
            byte[] onnx = OnnxWriter.Write(OnnxExporter.Export(spec, WeightInitializer.Initialize(spec, 7), opset));
            foreach (int batch in new[] { 1, 2 })
            {
                float[] input = OnnxRuntimeRunner.RealInputs(spec.Input, batch, first: 3);
                float[] expected = OnnxRuntimeRunner.Forward(model, input, batch);
                float[] actual = OnnxRuntimeRunner.Run(onnx, input, batch, model.InputShape);
                double diff = OnnxRuntimeRunner.RelativeMaxDiff(expected, actual);
                log.WriteLine($"{arch} opset {opset} batch {batch}: {diff:E3}");
                OnnxRuntimeRunner.AssertSame(expected, actual, Tolerance);
            }
        }
    }

    [Theory]
    [MemberData(nameof(SeedArchitectures))]
    public void A_seed_architecture_exported_imports_back_to_the_same_outputs(string arch)
    {
        ModelSpec spec = CnnService.Engine.Runtime.Architectures.Get(arch);
        Model original = Model.Create(spec, WeightInitializer.Initialize(spec, 7));
        Model imported = ReImport(spec, WeightInitializer.Initialize(spec, 7), out ModelSpec back);

        Assert.Equal(spec.Name, back.Name);
        float[] input = OnnxRuntimeRunner.RealInputs(spec.Input, 2, first: 3);
        OnnxRuntimeRunner.AssertSame(OnnxRuntimeRunner.Forward(original, input, 2), OnnxRuntimeRunner.Forward(imported, input, 2), Tolerance);
    }

    /// <summary>Exports to bytes and config text, then imports both as a model folder would be.</summary>
    private static Model ReImport(ModelSpec spec, IWeightSource weights, out ModelSpec back)
    {
        byte[] onnx = OnnxWriter.Write(OnnxExporter.Export(spec, weights));
        OnnxImportOptions options = OnnxConfig.Parse(OnnxExportConfig.ToJson(spec), "config.json");
        (back, WeightSet imported) = OnnxImporter.Import(OnnxReader.Read(onnx, folder: null), options);
        return Model.Create(back, imported);
    }
}
