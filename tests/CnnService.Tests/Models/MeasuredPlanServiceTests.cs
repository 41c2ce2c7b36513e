using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using CnnService.Engine.Runtime;
using CnnService.Tests.Endpoints;
using CnnService.Tests.Support;

namespace CnnService.Tests.Models;

/// <summary><c>Models:Plan</c> and <c>Models:PlanCache</c>: a service told to measure its plans serves what it measured and keeps
/// the choices in the file named; by default plans are fixed and nothing is measured.</summary>
public sealed class MeasuredPlanServiceTests : IDisposable
{
    private readonly TempModels _models = new();
    private readonly TempFolder _cache = new();

    public void Dispose()
    {
        _models.Dispose();
        _cache.Dispose();
    }

    [Fact]
    public async Task A_service_told_to_measure_serves_the_measured_plan_and_keeps_it_in_the_cache_file()
    {
        // Fashion-MNIST's second convolution (32 -> 32, 3x3, 28x28) has a choice with AVX-512: direct tiles or im2col.
        if (!Simd.IsSupported(SimdLevel.Vector512)) return;
        _models.Add("fashion", 1, shipped: "fashion-mnist");
        string cache = _cache.Combine("plans", "cache.json");
        await using var factory = new ServiceFactory(new Dictionary<string, string?>
        {
            ["Models:Root"] = _models.Root, ["Models:Plan"] = "Measure", ["Models:PlanCache"] = cache,
        });
        HttpClient client = await factory.ReadyClientAsync();

        using HttpResponseMessage response = await client.PostAsync("/v1/models/fashion/predict", ExplainEndpointsTests.Sample("fashion-mnist", "ankle-boot.png"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement top = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("predictions")[0].GetProperty("top")[0];
        Assert.Equal("Ankle boot", top.GetProperty("label").GetString());
        Assert.Equal(PlanMode.Measure, factory.Repository.EngineOptions.Plan);
        JsonObject plans = JsonNode.Parse(await File.ReadAllTextAsync(cache))!["plans"]!.AsObject();
        Assert.NotEmpty(plans);
    }

    [Fact]
    public async Task By_default_plans_are_fixed_and_nothing_is_cached()
    {
        _models.Add("digits", 1);
        await using var factory = new ServiceFactory(new Dictionary<string, string?> { ["Models:Root"] = _models.Root });
        await factory.ReadyClientAsync();

        Assert.Equal(PlanMode.Fixed, factory.Repository.EngineOptions.Plan);
        Assert.Null(factory.Repository.EngineOptions.PlanCache);
    }
}
