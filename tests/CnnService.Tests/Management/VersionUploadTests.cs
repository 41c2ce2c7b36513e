using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using CnnService.Engine.Onnx;
using CnnService.Engine.Onnx.Export;
using CnnService.Engine.Runtime;
using CnnService.Tests.Support;

namespace CnnService.Tests.Management;

/// <summary>POST /v1/models/{name}/versions: each accepted form becomes the next version, loaded, and predicts.</summary>
public sealed class VersionUploadTests
{
    private static Task<ManagedService> StartAsync() => ManagedService.StartAsync(models => models.Add("digits", 1));

    /// <summary>201 with the next version and its Location, served at once: it answers a predict of a real digit.</summary>
    private static async Task AssertServedAsNextVersionAsync(ManagedService service, HttpResponseMessage upload, int expected)
    {
        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        JsonElement body = await ManagedService.JsonAsync(upload);
        Assert.Equal(expected, body.GetProperty("version").GetInt32());
        Assert.Equal($"/v1/models/digits/versions/{expected}", upload.Headers.Location?.OriginalString);
        Assert.Equal(expected, service.Factory.Repository.Models["digits"].Default?.Version);

        using HttpResponseMessage predict = await service.PredictAsync("digits", expected);
        Assert.Equal(HttpStatusCode.OK, predict.StatusCode);
        JsonElement prediction = await ManagedService.JsonAsync(predict);
        Assert.Equal(expected, prediction.GetProperty("version").GetInt32());
        Assert.Equal(MnistSamples.Label(0).ToString(System.Globalization.CultureInfo.InvariantCulture),
            prediction.GetProperty("predictions")[0].GetProperty("top")[0].GetProperty("label").GetString());
        Assert.DoesNotContain(service.Listing("digits"), e => e.StartsWith('.'));
    }

    [Fact]
    public async Task A_multipart_upload_of_model_json_and_weights_is_served_as_the_next_version()
    {
        await using ManagedService service = await StartAsync();

        using HttpResponseMessage upload = await service.Client.PostAsync("/v1/models/digits/versions", ManagedService.Multipart(ManagedService.ShippedVersionFiles()));

        await AssertServedAsNextVersionAsync(service, upload, 2);
    }

    [Fact]
    public async Task A_tar_gz_of_a_version_folder_is_served_as_the_next_version()
    {
        await using ManagedService service = await StartAsync();
        using var content = new ByteArrayContent(ManagedService.ShippedTarGz());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/gzip");

        using HttpResponseMessage upload = await service.Client.PostAsync("/v1/models/digits/versions", content);

        await AssertServedAsNextVersionAsync(service, upload, 2);
    }

    [Fact]
    public async Task A_zip_of_a_version_folder_sent_as_a_multipart_part_is_served_as_the_next_version()
    {
        await using ManagedService service = await StartAsync();
        byte[] zip = ManagedService.Zip([.. ManagedService.ShippedVersionFiles().Select(f => ("2/" + f.Item1, f.Item2, 0x81A4))]);

        using HttpResponseMessage upload = await service.Client.PostAsync("/v1/models/digits/versions", ManagedService.Multipart(("digits-2.zip", zip)));

        await AssertServedAsNextVersionAsync(service, upload, 2);
    }

    [Fact]
    public async Task An_onnx_file_with_its_config_json_is_served_as_the_next_version()
    {
        await using ManagedService service = await StartAsync();
        string shipped = Path.Combine(Fixtures.Models, "mnist", "2");
        byte[] onnx = OnnxWriter.Write(OnnxExporter.Export(shipped)); // what `cnn export --onnx` writes
        byte[] config = System.Text.Encoding.UTF8.GetBytes(OnnxExportConfig.ToJson(ModelLoader.Read(shipped).Spec));

        using HttpResponseMessage upload = await service.Client.PostAsync("/v1/models/digits/versions",
            ManagedService.Multipart(("mnist.onnx", onnx), ("config.json", config)));

        await AssertServedAsNextVersionAsync(service, upload, 2);
        Assert.True(File.Exists(Path.Combine(service.Models.Root, "digits", "2", ModelLoader.OnnxFile)));
    }

    [Fact]
    public async Task A_bare_onnx_body_is_served_as_the_next_version()
    {
        await using ManagedService service = await StartAsync();
        using var content = new ByteArrayContent(File.ReadAllBytes(Path.Combine(Fixtures.Root, "onnx", "proto", "torch_conv.onnx")));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");

        using HttpResponseMessage upload = await service.Client.PostAsync("/v1/models/convnet/versions", content);

        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        Assert.Equal(1, (await ManagedService.JsonAsync(upload)).GetProperty("version").GetInt32());
        Assert.Equal(1, service.Factory.Repository.Models["convnet"].Default?.Version);
    }

    [Fact]
    public async Task An_upload_with_promote_false_keeps_the_current_default()
    {
        await using ManagedService service = await StartAsync();

        using HttpResponseMessage upload = await service.Client.PostAsync("/v1/models/digits/versions?promote=false", ManagedService.Multipart(ManagedService.ShippedVersionFiles()));

        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        Assert.Equal(1, service.Factory.Repository.Models["digits"].Default?.Version);
        Assert.True(service.Factory.Repository.Models["digits"].Loaded.ContainsKey(2));
    }

    [Fact]
    public async Task A_broken_model_json_is_a_400_naming_it_and_leaves_no_folder()
    {
        await using ManagedService service = await StartAsync();
        byte[] weights = File.ReadAllBytes(ManagedService.Shipped("weights.safetensors"));

        using HttpResponseMessage upload = await service.Client.PostAsync("/v1/models/fresh/versions",
            ManagedService.Multipart(("model.json", "{\"input\": [1, 2"u8.ToArray()), ("weights.safetensors", weights)));

        Assert.Equal(HttpStatusCode.BadRequest, upload.StatusCode);
        Assert.Contains("model.json", await ManagedService.ErrorAsync(upload));
        Assert.False(Directory.Exists(Path.Combine(service.Models.Root, "fresh")));
        Assert.False(service.Factory.Repository.Models.ContainsKey("fresh"));
    }

    [Fact]
    public async Task Weights_that_do_not_fit_the_model_are_a_400_and_the_old_version_keeps_serving()
    {
        await using ManagedService service = await StartAsync();
        byte[] fashionWeights = File.ReadAllBytes(Path.Combine(Fixtures.Models, "fashion-mnist", "1", "weights.safetensors"));

        using HttpResponseMessage upload = await service.Client.PostAsync("/v1/models/digits/versions",
            ManagedService.Multipart(("model.json", File.ReadAllBytes(ManagedService.Shipped("model.json", 1))), ("weights.safetensors", fashionWeights)));

        Assert.Equal(HttpStatusCode.BadRequest, upload.StatusCode);
        Assert.Equal(["1"], service.Listing("digits"));
        using HttpResponseMessage predict = await service.PredictAsync("digits");
        Assert.Equal(HttpStatusCode.OK, predict.StatusCode);
    }

    [Fact]
    public async Task An_upload_to_an_unloaded_model_is_a_409_and_leaves_nothing()
    {
        await using ManagedService service = await StartAsync();
        await service.Client.PostAsync("/v2/repository/models/digits/unload", null);

        using HttpResponseMessage upload = await service.Client.PostAsync("/v1/models/digits/versions", ManagedService.Multipart(ManagedService.ShippedVersionFiles()));

        Assert.Equal(HttpStatusCode.Conflict, upload.StatusCode);
        Assert.Contains("unloaded", await ManagedService.ErrorAsync(upload));
        Assert.Equal(["1"], service.Listing("digits"));
    }
}
