namespace CnnService.Hosting;

/// <summary>
/// <c>CnnService --healthcheck [URL]</c>: GET the service's readiness endpoint and exit 0 on a 2xx answer,
/// 1 otherwise, without starting the web host. The container's HEALTHCHECK uses it, since the aspnet
/// image has no curl or wget. The default URL is <c>http://127.0.0.1:${ASPNETCORE_HTTP_PORTS:-8080}/health/ready</c>
/// (the first port when several are listed).
/// </summary>
public static class HealthCheckCommand
{
    public const string Flag = "--healthcheck";

    /// <summary>The URL to check when none is given.</summary>
    public static string DefaultUrl() => DefaultUrl(Environment.GetEnvironmentVariable("ASPNETCORE_HTTP_PORTS"));

    /// <summary>The URL to check for a given <c>ASPNETCORE_HTTP_PORTS</c> value.</summary>
    public static string DefaultUrl(string? ports)
    {
        string port = ports?.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
        if (port.Length == 0) port = "8080";
        return $"http://127.0.0.1:{port}/health/ready";
    }

    /// <summary>Runs the check when <paramref name="args"/> start with <c>--healthcheck</c>: true and the exit code if so.</summary>
    public static bool TryRun(string[] args, out int exitCode)
    {
        exitCode = 0;
        if (args.Length == 0 || args[0] != Flag) return false;
        string url = args.Length > 1 ? args[1] : DefaultUrl();
        exitCode = RunAsync(url, TimeSpan.FromSeconds(3), Console.Error).GetAwaiter().GetResult();
        return true;
    }

    /// <summary>GETs <paramref name="url"/>: 0 on 2xx, 1 on any other status, a connection failure or a timeout.</summary>
    public static async Task<int> RunAsync(string url, TimeSpan timeout, TextWriter? log = null)
    {
        try
        {
            using var client = new HttpClient { Timeout = timeout };
            using HttpResponseMessage response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
            if (response.IsSuccessStatusCode) return 0;
            log?.WriteLine($"healthcheck: {url} answered {(int)response.StatusCode} {response.ReasonPhrase}");
            return 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or UriFormatException or InvalidOperationException)
        {
            log?.WriteLine($"healthcheck: {url} failed: {e.Message}");
            return 1;
        }
    }
}
