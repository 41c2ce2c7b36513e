using System.Net;
using System.Text;
using CnnService.Models;

namespace CnnService.Tests.Management;

/// <summary>PUT /v1/models/{name}/default pins a version; DELETE /v1/models/{name}/versions/{v} removes one that is not the default.</summary>
public sealed class DefaultAndDeleteTests
{
    private static Task<ManagedService> StartAsync() => ManagedService.StartAsync(models =>
    {
        models.Add("digits", 1);
        models.Add("digits", 2, "mnist", 2);
    });

    private static Task<HttpResponseMessage> PutDefaultAsync(ManagedService service, string json) =>
        service.Client.PutAsync("/v1/models/digits/default", new StringContent(json, Encoding.UTF8, "application/json"));

    [Fact]
    public async Task Promoting_an_older_version_pins_it_in_serving_json_and_predict_uses_it()
    {
        await using ManagedService service = await StartAsync();

        using HttpResponseMessage put = await PutDefaultAsync(service, "{\"version\": 1}");

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(1, (await ManagedService.JsonAsync(put)).GetProperty("default_version").GetInt32());
        Assert.Equal(1, ModelDirectory.ReadPin(service.Models.Root, "digits"));
        using HttpResponseMessage predict = await service.PredictAsync("digits");
        Assert.Equal(1, (await ManagedService.JsonAsync(predict)).GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task A_null_default_removes_the_pin_and_the_newest_version_is_the_default_again()
    {
        await using ManagedService service = await StartAsync();
        await PutDefaultAsync(service, "{\"version\": 1}");

        using HttpResponseMessage put = await PutDefaultAsync(service, "{\"version\": null}");

        Assert.Equal(2, (await ManagedService.JsonAsync(put)).GetProperty("default_version").GetInt32());
        Assert.Null(ModelDirectory.ReadPin(service.Models.Root, "digits"));
    }

    [Fact]
    public async Task Promoting_a_version_that_is_not_on_disk_is_a_404()
    {
        await using ManagedService service = await StartAsync();

        using HttpResponseMessage put = await PutDefaultAsync(service, "{\"version\": 9}");

        Assert.Equal(HttpStatusCode.NotFound, put.StatusCode);
        Assert.Contains("no version 9", await ManagedService.ErrorAsync(put));
    }

    [Fact]
    public async Task Deleting_a_version_that_is_not_the_default_retires_it_and_removes_its_folder()
    {
        await using ManagedService service = await StartAsync();

        using HttpResponseMessage delete = await service.Client.DeleteAsync("/v1/models/digits/versions/1");

        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.Equal(["2"], service.Listing("digits"));
        Assert.Equal([2], service.Factory.Repository.Models["digits"].Loaded.Keys);
        using HttpResponseMessage predict = await service.PredictAsync("digits", 1);
        Assert.Equal(HttpStatusCode.NotFound, predict.StatusCode);
    }

    [Fact]
    public async Task Deleting_the_default_version_is_a_409_and_keeps_it()
    {
        await using ManagedService service = await StartAsync();

        using HttpResponseMessage delete = await service.Client.DeleteAsync("/v1/models/digits/versions/2");

        Assert.Equal(HttpStatusCode.Conflict, delete.StatusCode);
        Assert.Contains("default", await ManagedService.ErrorAsync(delete));
        Assert.Equal(["1", "2"], service.Listing("digits"));
        Assert.Equal(2, service.Factory.Repository.Models["digits"].Default?.Version);
    }

    [Fact]
    public async Task Deleting_a_pinned_default_is_a_409_even_when_it_is_not_the_newest()
    {
        await using ManagedService service = await StartAsync();
        await PutDefaultAsync(service, "{\"version\": 1}");

        using HttpResponseMessage delete = await service.Client.DeleteAsync("/v1/models/digits/versions/1");

        Assert.Equal(HttpStatusCode.Conflict, delete.StatusCode);
        Assert.Equal(["1", "2", ModelDirectory.ServingFile], service.Listing("digits"));
    }

    [Fact]
    public async Task Deleting_the_only_version_of_a_model_is_a_409()
    {
        await using ManagedService service = await ManagedService.StartAsync(models => models.Add("digits", 1));
        await service.Client.PostAsync("/v2/repository/models/digits/unload", null); // unloaded, it has no served default either

        using HttpResponseMessage delete = await service.Client.DeleteAsync("/v1/models/digits/versions/1");

        Assert.Equal(HttpStatusCode.Conflict, delete.StatusCode);
        Assert.Contains("only version", await ManagedService.ErrorAsync(delete));
        Assert.Equal(["1"], service.Listing("digits"));
    }
}
