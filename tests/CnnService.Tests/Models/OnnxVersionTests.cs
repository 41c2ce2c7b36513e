using System.Net;
using System.Text;
using System.Text.Json;
using CnnService.Engine.Onnx;
using CnnService.Engine.Onnx.Export;
using CnnService.Engine.Onnx.Import;
using CnnService.Engine.Runtime;
using CnnService.Tests.Support;

namespace CnnService.Tests.Models;

/// <summary>A version folder may hold model.onnx (with config.json) instead of model.json and weights, as Triton's repository does.</summary>
public sealed class OnnxVersionTests : IDisposable
{
    private readonly TempModels _models = new();

    public void Dispose() => _models.Dispose();

    private ServiceFactory Service() => new(new Dictionary<string, string?>
    {
        ["Models:Root"] = _models.Root,
        ["Models:PollSeconds"] = "0.2",
    });

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        // Two minutes only bound a hang: a loaded 2-core machine can take seconds to load and warm a version.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (!condition() && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.True(condition(), $"Timed out waiting until {what}.");
    }

    /// <summary>The shipped MNIST model as ONNX with its config.json, published as version <paramref name="version"/> of <paramref name="name"/>.</summary>
    private string AddOnnx(string name, int version, Func<byte[], byte[]>? damage = null)
    {
        string staging = Path.Combine(_models.Root, name, $".{version}.partial");
        Directory.CreateDirectory(staging);
        ExportFolder(Path.Combine(Fixtures.Models, "mnist", "1"), Path.Combine(staging, ModelLoader.OnnxFile));
        if (damage is not null)
        {
            string file = Path.Combine(staging, ModelLoader.OnnxFile);
            File.WriteAllBytes(file, damage(File.ReadAllBytes(file)));
        }

        string target = Path.Combine(_models.Root, name, version.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.Move(staging, target);
        return target;
    }

    /// <summary>What `cnn export --onnx` writes: the version as model.onnx, and config.json beside it.</summary>
    private static void ExportFolder(string version, string onnxPath)
    {
        File.WriteAllBytes(onnxPath, OnnxWriter.Write(OnnxExporter.Export(version)));
        File.WriteAllText(Path.Combine(Path.GetDirectoryName(onnxPath)!, OnnxConfig.ConfigFile), OnnxExportConfig.ToJson(ModelLoader.Read(version).Spec));
    }

    [Fact]
    public async Task An_onnx_version_predicts_the_digit_of_a_real_mnist_test_image()
    {
        AddOnnx("digits", 1);
        await using ServiceFactory factory = Service();
        HttpClient client = await factory.ReadyClientAsync();

        using var content = new StringContent(MnistSamples.InstancesBody(0), Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await client.PostAsync("/v1/models/digits/predict", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement prediction = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("predictions")[0];
        Assert.Equal(MnistSamples.Label(0).ToString(System.Globalization.CultureInfo.InvariantCulture), prediction.GetProperty("top")[0].GetProperty("label").GetString());
    }

    [Fact]
    public async Task An_onnx_versions_details_walk_its_layers()
    {
        AddOnnx("digits", 1);
        await using ServiceFactory factory = Service();
        HttpClient client = await factory.ReadyClientAsync();

        JsonElement details = JsonDocument.Parse(await client.GetStringAsync("/v1/models/digits")).RootElement;

        JsonElement layers = details.GetProperty("layers");
        Assert.Equal("conv2d", layers[0].GetProperty("type").GetString());
        Assert.Equal([-1], layers[0].GetProperty("inputs").EnumerateArray().Select(i => i.GetInt32()));
        Assert.Equal(10, details.GetProperty("labels").GetArrayLength());
    }

    [Fact]
    public async Task A_truncated_onnx_version_is_listed_as_failed_and_the_old_one_keeps_serving()
    {
        _models.Add("digits", 1);
        await using ServiceFactory factory = Service();
        HttpClient client = await factory.ReadyClientAsync();

        AddOnnx("digits", 2, bytes => bytes[..(bytes.Length / 2)]);
        await UntilAsync(() => factory.Repository.Models["digits"].Failed.ContainsKey(2), "version 2 is recorded as failed");

        Assert.Equal(1, factory.Repository.Models["digits"].Default?.Version);
        Assert.Contains("model.onnx", factory.Repository.Models["digits"].Failed[2].Error);
        using var content = new StringContent(MnistSamples.InstancesBody(0), Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await client.PostAsync("/v1/models/digits/predict", content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_folder_with_both_model_json_and_model_onnx_is_refused_as_ambiguous()
    {
        _models.Add("digits", 1);
        string both = _models.Add("digits", 2);
        ExportFolder(Path.Combine(Fixtures.Models, "mnist", "1"), Path.Combine(both, ModelLoader.OnnxFile));
        await using ServiceFactory factory = Service();
        await factory.ReadyClientAsync();

        await UntilAsync(() => factory.Repository.Models["digits"].Failed.ContainsKey(2), "version 2 is recorded as failed");

        Assert.Contains("both", factory.Repository.Models["digits"].Failed[2].Error);
    }
}
