using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Format;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Runtime;

public class ModelLoaderTests
{
    [Fact]
    public void A_saved_model_loads_and_predicts_like_the_original()
    {
        using var dir = new TempDir();
        ModelSpec spec = Architectures.KerasMnist();
        WeightSet weights = WeightInitializer.Initialize(spec, 11);
        Save(dir, spec, weights.AllFloat32());
        Model original = Model.Create(spec, WeightInitializer.Initialize(spec, 11));

        Model loaded = ModelLoader.Load(dir.Path);
        float[] x = TestModels.Random(3 * 784, seed: 12);

        Assert.Equal(TestModels.Forward(original, x, 3), TestModels.Forward(loaded, x, 3));
        Assert.Equal(spec.Labels, loaded.Labels);
    }

    [Fact]
    public void A_missing_directory_is_named()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => ModelLoader.Load("/nonexistent/model/1"));
        Assert.Contains("/nonexistent/model/1", e.Message);
    }

    [Fact]
    public void A_missing_weights_file_is_named()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("model.json"), ModelSpecJson.ToJson(Architectures.KerasMnist()));

        var e = Assert.Throws<FileNotFoundException>(() => ModelLoader.Load(dir.Path));
        Assert.Contains("weights.safetensors", e.Message);
    }

    [Fact]
    public void A_truncated_weights_file_fails_naming_the_file()
    {
        using var dir = new TempDir();
        ModelSpec spec = Architectures.KerasMnist();
        Save(dir, spec, WeightInitializer.Initialize(spec, 1).AllFloat32());
        byte[] bytes = File.ReadAllBytes(dir.File("weights.safetensors"));
        File.WriteAllBytes(dir.File("weights.safetensors"), bytes[..(bytes.Length / 2)]);

        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(dir.Path));
        Assert.Contains("weights.safetensors", e.Message);
    }

    [Fact]
    public void A_tensor_of_the_wrong_shape_is_named_with_both_shapes()
    {
        using var dir = new TempDir();
        ModelSpec spec = Architectures.KerasMnist();
        var tensors = WeightInitializer.Initialize(spec, 1).AllFloat32()
            .Select(t => t.Name == "fc2.weight" ? new NamedTensor(t.Name, [10, 99], new float[990]) : t);
        Save(dir, spec, tensors);

        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(dir.Path));
        Assert.Contains("fc2.weight", e.Message);
        Assert.Contains("[10,99]", e.Message.Replace(" ", ""));
    }

    [Fact]
    public void A_missing_tensor_is_named()
    {
        using var dir = new TempDir();
        ModelSpec spec = Architectures.KerasMnist();
        Save(dir, spec, WeightInitializer.Initialize(spec, 1).AllFloat32().Where(t => t.Name != "conv1.bias"));

        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(dir.Path));
        Assert.Contains("conv1.bias", e.Message);
    }

    [Fact]
    public void An_extra_tensor_is_named()
    {
        using var dir = new TempDir();
        ModelSpec spec = Architectures.KerasMnist();
        Save(dir, spec, WeightInitializer.Initialize(spec, 1).AllFloat32().Append(new NamedTensor("fc3.weight", [2], [1f, 2f])));

        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(dir.Path));
        Assert.Contains("fc3.weight", e.Message);
    }

    [Fact]
    public void An_impossible_layer_fails_at_load_naming_it()
    {
        using var dir = new TempDir();
        string json = ModelSpecJson.ToJson(Architectures.KerasMnist()).Replace("\"kernel\": 3", "\"kernel\": 29");
        File.WriteAllText(dir.File("model.json"), json);
        SafeTensors.Write(dir.File("weights.safetensors"), []);

        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(dir.Path));
        Assert.Contains("conv1", e.Message);
        Assert.Contains("larger than the padded input", e.Message);
    }

    [Fact]
    public void A_pytorch_style_state_dict_with_batchnorm_loads_unchanged()
    {
        // BatchNorm2d's state_dict carries num_batches_tracked (I64): it must be accepted as is.
        using var dir = new TempDir();
        var spec = TestModels.Spec(new TensorShape(1, 4, 4),
            new LayerSpec { Type = "conv2d", Name = "conv", Filters = 2, Kernel = Pair.Square(3) },
            new LayerSpec { Type = "batchnorm", Name = "bn" });
        File.WriteAllText(dir.File("model.json"), ModelSpecJson.ToJson(spec));
        string header = """{"__metadata__":{"format":"pt"},"bn.bias":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"bn.num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"bn.running_mean":{"dtype":"F32","shape":[2],"data_offsets":[16,24]},"bn.running_var":{"dtype":"F32","shape":[2],"data_offsets":[24,32]},"bn.weight":{"dtype":"F32","shape":[2],"data_offsets":[32,40]},"conv.bias":{"dtype":"F32","shape":[2],"data_offsets":[40,48]},"conv.weight":{"dtype":"F32","shape":[2,1,3,3],"data_offsets":[48,120]}}""";
        float[] values = [0, 0, 0, 0, 1, 1, 1, 1, 0.5f, 0.5f, .. Enumerable.Repeat(1f, 18)];
        File.WriteAllBytes(dir.File("weights.safetensors"), SafeTensorsBytes.Build(header, [.. new byte[8], .. SafeTensorsBytes.Floats(values)]));

        Model model = ModelLoader.Load(dir.Path);
        float[] y = TestModels.Forward(model, Enumerable.Repeat(1f, 16).ToArray(), 1);

        // conv: 9 ones + bias 0.5 = 9.5; batchnorm with mean 0, var 1, gamma 1, beta 0: 9.5 / sqrt(1 + 1e-5).
        Assert.All(y, v => Assert.Equal(9.5f / MathF.Sqrt(1 + 1e-5f), v, 4));
    }

    private static void Save(TempDir dir, ModelSpec spec, IEnumerable<NamedTensor> tensors)
    {
        File.WriteAllText(dir.File("model.json"), ModelSpecJson.ToJson(spec));
        SafeTensors.Write(dir.File("weights.safetensors"), tensors);
    }
}
