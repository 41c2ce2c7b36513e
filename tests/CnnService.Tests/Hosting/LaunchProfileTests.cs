using System.Net;
using System.Text.Json;
using CnnService.Tests.Support;
using Microsoft.Extensions.Hosting;

namespace CnnService.Tests.Hosting;

/// <summary>
/// <c>dotnet run --project src/CnnService</c>, the README's first command, serves as a deployment does:
/// it takes the first profile of launchSettings.json, which must not switch to Development.
/// </summary>
public class LaunchProfileTests
{
    private static readonly string LaunchSettings = Path.Combine(Fixtures.Repository, "src", "CnnService", "Properties", "launchSettings.json");

    [Fact]
    public void The_profile_dotnet_run_takes_leaves_the_environment_Production()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(LaunchSettings));
        JsonProperty first = doc.RootElement.GetProperty("profiles").EnumerateObject().First();

        string? environment = first.Value.TryGetProperty("environmentVariables", out JsonElement variables)
            && variables.TryGetProperty("ASPNETCORE_ENVIRONMENT", out JsonElement value) ? value.GetString() : null;
        Assert.True(environment is null or "Production", $"profile '{first.Name}' sets ASPNETCORE_ENVIRONMENT={environment}");
    }

    [Fact]
    public async Task Swagger_UI_and_the_page_are_served_in_Production()
    {
        await using var factory = new ServiceFactory(new Dictionary<string, string?> { ["environment"] = Environments.Production });
        HttpClient client = factory.CreateClient();

        Assert.Equal(Environments.Production, factory.Services.GetService(typeof(IHostEnvironment)) is IHostEnvironment e ? e.EnvironmentName : null);
        using HttpResponseMessage swagger = await client.GetAsync("/swagger/index.html");
        using HttpResponseMessage page = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, swagger.StatusCode);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }
}
