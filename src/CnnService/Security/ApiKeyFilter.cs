using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace CnnService.Security;

/// <summary>
/// Guards endpoints that change state or show the server's insides (train jobs, read or written; model
/// management): the caller must send header
/// <c>X-Api-Key</c> equal to the configured <c>Auth:ApiKey</c>. With no key configured, only callers on
/// this machine (a loopback address) are let in, so a fresh checkout is usable locally and safe when
/// exposed by mistake. A connection with no IP address (the in-memory test server, a Unix socket behind
/// a reverse proxy) is not trusted as local: a proxy would make every remote caller look like it.
/// Configure a key whenever the service sits behind a proxy on the same machine.
/// Anything else is a 401 problem.
/// </summary>
public sealed class ApiKeyFilter(IConfiguration configuration) : IEndpointFilter
{
    public const string HeaderName = "X-Api-Key";
    public const string SettingName = "Auth:ApiKey";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        HttpContext http = context.HttpContext;
        string? expected = configuration[SettingName];
        if (string.IsNullOrEmpty(expected))
        {
            return http.Connection.RemoteIpAddress is IPAddress remote && IPAddress.IsLoopback(remote)
                ? await next(context)
                : Unauthorized($"No API key is configured ({SettingName}), so this endpoint only answers callers on the service's own machine.");
        }

        string? given = http.Request.Headers[HeaderName];
        return given is not null && KeysMatch(given, expected)
            ? await next(context)
            : Unauthorized($"This endpoint needs the service's API key in the {HeaderName} header.");
    }

    /// <summary>Compares in constant time, so the response time does not tell how much of a guess was right.</summary>
    private static bool KeysMatch(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));

    private static IResult Unauthorized(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
}

/// <summary>Applies <see cref="ApiKeyFilter"/> to an endpoint and documents its 401.</summary>
public static class ApiKeyFilterExtensions
{
    public static RouteHandlerBuilder RequireApiKey(this RouteHandlerBuilder builder) =>
        builder.AddEndpointFilter<ApiKeyFilter>().ProducesProblem(StatusCodes.Status401Unauthorized);
}
