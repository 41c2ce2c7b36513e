using System.Net;
using System.Text.Json;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

public sealed class HealthEndpointsTests
{
    [Fact]
    public async Task Live_answers_while_the_process_runs()
    {
        await using var factory = new ServiceFactory();
        using HttpResponseMessage response = await factory.CreateClient().GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Ready_answers_once_every_model_is_loaded_and_warm()
    {
        await using var factory = new ServiceFactory();
        HttpClient client = await factory.ReadyClientAsync();

        using HttpResponseMessage response = await client.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("ready", body.GetProperty("status").GetString());
        Assert.Equal(2, body.GetProperty("models").GetInt32());
    }

    [Fact]
    public async Task Root_serves_the_explain_page_and_swagger_ui_serves_the_openapi_document()
    {
        await using var factory = new ServiceFactory();
        HttpClient client = factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        using HttpResponseMessage root = await client.GetAsync("/");
        using HttpResponseMessage ui = await client.GetAsync("/swagger/index.html");
        string document = await client.GetStringAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        Assert.Equal("text/html", root.Content.Headers.ContentType?.MediaType);
        Assert.Contains("id=\"draw-canvas\"", await root.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        JsonElement paths = JsonDocument.Parse(document).RootElement.GetProperty("paths");
        JsonElement predict = paths.GetProperty("/v1/models/{name}/predict").GetProperty("post");
        Assert.True(predict.GetProperty("requestBody").GetProperty("content").TryGetProperty("multipart/form-data", out _));
        Assert.True(predict.GetProperty("requestBody").GetProperty("content").TryGetProperty("image/png", out _));
        JsonElement explain = paths.GetProperty("/v1/models/{name}/explain").GetProperty("post");
        Assert.True(explain.GetProperty("requestBody").GetProperty("content").TryGetProperty("multipart/form-data", out _));
        Assert.Contains(explain.GetProperty("parameters").EnumerateArray(), p => p.GetProperty("name").GetString() == "layer");
        Assert.True(paths.TryGetProperty("/v1/models/{name}/filters/{layer}.png", out _));
    }
}
