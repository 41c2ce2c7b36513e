using System.Text.Json;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

/// <summary>The OpenAPI document tells a client (and Swagger UI) what predict and explain take and how they refuse.</summary>
public sealed class OpenApiDocumentTests : IAsyncLifetime
{
    private readonly ServiceFactory _factory = new();
    private JsonElement _paths;

    public async Task InitializeAsync() =>
        _paths = JsonDocument.Parse(await _factory.CreateClient().GetStringAsync("/openapi/v1.json")).RootElement.GetProperty("paths");

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    public static TheoryData<string> ImageRoutes => new()
    {
        "/v1/models/{name}/predict", "/v1/models/{name}/versions/{version}/predict",
        "/v1/models/{name}/explain", "/v1/models/{name}/versions/{version}/explain",
    };

    [Theory]
    [MemberData(nameof(ImageRoutes))]
    public void Top_k_is_a_declared_integer_query_parameter(string route)
    {
        JsonElement topK = Post(route).GetProperty("parameters").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "top_k");

        Assert.Equal("query", topK.GetProperty("in").GetString());
        Assert.Equal("integer", topK.GetProperty("schema").GetProperty("type").GetString());
    }

    [Theory]
    [MemberData(nameof(ImageRoutes))]
    public void Each_refusal_is_declared_as_a_problem(string route)
    {
        JsonElement responses = Post(route).GetProperty("responses");
        string[] expected = route.EndsWith("predict") ? ["400", "404", "413", "415", "429"] : ["400", "404", "413", "415"];

        foreach (string status in expected)
        {
            Assert.True(responses.TryGetProperty(status, out JsonElement response), $"{route} declares no {status}");
            JsonElement schema = response.GetProperty("content").GetProperty("application/problem+json").GetProperty("schema");
            Assert.Equal("#/components/schemas/ProblemDetails", schema.GetProperty("$ref").GetString());
        }
    }

    [Theory]
    [MemberData(nameof(ImageRoutes))]
    public void The_multipart_body_is_an_array_of_binary_files(string route)
    {
        JsonElement files = Post(route).GetProperty("requestBody").GetProperty("content").GetProperty("multipart/form-data")
            .GetProperty("schema").GetProperty("properties").GetProperty("files");

        Assert.Equal("array", files.GetProperty("type").GetString());
        Assert.Equal("string", files.GetProperty("items").GetProperty("type").GetString());
        Assert.Equal("binary", files.GetProperty("items").GetProperty("format").GetString());
    }

    private JsonElement Post(string route) => _paths.GetProperty(route).GetProperty("post");
}
