using System.Net;
using System.Text;
using System.Text.Json;
using CnnService.Tests.Support;

namespace CnnService.Tests.Management;

/// <summary>Triton's repository API: the index, unload and load, behind the API key.</summary>
public sealed class RepositoryApiTests
{
    [Fact]
    public async Task The_index_lists_every_version_on_disk_with_its_state_and_reason()
    {
        await using ManagedService service = await ManagedService.StartAsync(models =>
        {
            models.Add("digits", 1);
            models.Add("digits", 2, "mnist", 2);
            string broken = models.Add("digits", 3);
            File.WriteAllBytes(Path.Combine(broken, "weights.safetensors"), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        });

        using HttpResponseMessage response = await service.Client.PostAsync("/v2/repository/index", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var rows = (await ManagedService.JsonAsync(response)).EnumerateArray()
            .Select(r => (r.GetProperty("name").GetString(), r.GetProperty("version").GetString(), r.GetProperty("state").GetString(), r.GetProperty("reason").GetString())).ToList();
        Assert.Equal(3, rows.Count);
        Assert.Equal(("digits", "1", "READY", ""), rows[0]);
        Assert.Equal(("digits", "2", "READY", ""), rows[1]);
        Assert.Equal(("digits", "3", "UNAVAILABLE"), (rows[2].Item1, rows[2].Item2, rows[2].Item3));
        Assert.Contains("weights.safetensors", rows[2].Item4);
    }

    [Fact]
    public async Task The_index_with_ready_true_lists_only_ready_versions_and_answers_get_too()
    {
        await using ManagedService service = await ManagedService.StartAsync(models =>
        {
            models.Add("digits", 1);
            models.Add("letters", 1);
        });
        await service.Client.PostAsync("/v2/repository/models/letters/unload", null);

        using var body = new StringContent("{\"ready\": true}", Encoding.UTF8, "application/json");
        JsonElement ready = await ManagedService.JsonAsync(await service.Client.PostAsync("/v2/repository/index", body));
        JsonElement all = await ManagedService.JsonAsync(await service.Client.GetAsync("/v2/repository/index"));

        Assert.Equal(["digits"], ready.EnumerateArray().Select(r => r.GetProperty("name").GetString()));
        JsonElement letters = all.EnumerateArray().Single(r => r.GetProperty("name").GetString() == "letters");
        Assert.Equal("UNAVAILABLE", letters.GetProperty("state").GetString());
        Assert.Equal("unloaded", letters.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task An_unloaded_model_is_not_found_until_it_is_loaded_again()
    {
        await using ManagedService service = await ManagedService.StartAsync(models => models.Add("digits", 1));

        using HttpResponseMessage unload = await service.Client.PostAsync("/v2/repository/models/digits/unload", null);
        Assert.Equal(HttpStatusCode.OK, unload.StatusCode);
        using (HttpResponseMessage predict = await service.PredictAsync("digits")) Assert.Equal(HttpStatusCode.NotFound, predict.StatusCode);
        Assert.True(Directory.Exists(Path.Combine(service.Models.Root, "digits", "1")));

        using HttpResponseMessage load = await service.Client.PostAsync("/v2/repository/models/digits/load", null);
        Assert.Equal(HttpStatusCode.OK, load.StatusCode);
        using (HttpResponseMessage predict = await service.PredictAsync("digits")) Assert.Equal(HttpStatusCode.OK, predict.StatusCode);
    }

    [Fact]
    public async Task An_unloaded_model_stays_unloaded_through_a_rescan_of_the_disk()
    {
        await using ManagedService service = await ManagedService.StartAsync(models => models.Add("digits", 1));
        await service.Client.PostAsync("/v2/repository/models/digits/unload", null);

        // The scan the watcher runs on every change and poll, awaited here rather than waited for.
        await service.Factory.Repository.ScanAsync(CancellationToken.None);

        Assert.False(service.Factory.Repository.Models.ContainsKey("digits"));
        using HttpResponseMessage predict = await service.PredictAsync("digits");
        Assert.Equal(HttpStatusCode.NotFound, predict.StatusCode);
    }

    [Fact]
    public async Task Loading_or_unloading_an_unknown_model_is_a_404_error()
    {
        await using ManagedService service = await ManagedService.StartAsync(models => models.Add("digits", 1));

        using HttpResponseMessage load = await service.Client.PostAsync("/v2/repository/models/nothing/load", null);
        using HttpResponseMessage unload = await service.Client.PostAsync("/v2/repository/models/nothing/unload", null);

        Assert.Equal(HttpStatusCode.NotFound, load.StatusCode);
        Assert.Contains("nothing", await ManagedService.ErrorAsync(load));
        Assert.Equal(HttpStatusCode.NotFound, unload.StatusCode);
    }

    [Fact]
    public async Task Without_the_api_key_every_management_call_is_a_401()
    {
        await using ManagedService service = await ManagedService.StartAsync(models => models.Add("digits", 1));
        using HttpClient anonymous = service.Factory.CreateClient();

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/v2/repository/index", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/v2/repository/models/digits/unload", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/v1/models/digits/versions", ManagedService.Multipart(ManagedService.ShippedVersionFiles()))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PutAsync("/v1/models/digits/default", new StringContent("{\"version\": 1}", Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.DeleteAsync("/v1/models/digits/versions/1")).StatusCode);
        Assert.Equal(["1"], service.Listing("digits"));
        Assert.NotNull(service.Factory.Repository.Models["digits"].Default);
    }
}
