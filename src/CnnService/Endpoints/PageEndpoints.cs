using CnnService.Contracts;
using CnnService.Explain;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CnnService.Endpoints;

/// <summary>
/// <c>GET /page-settings.json</c>: the settings the page at <c>/</c> (wwwroot) reads on start, so a deployment
/// chooses what it opens on (<c>Explain:DefaultModel</c>) without editing its files. Not part of the API.
/// </summary>
public static class PageEndpoints
{
    public const string Path = "/page-settings.json";

    public static IEndpointConventionBuilder MapPageEndpoints(this IEndpointRouteBuilder app) =>
        app.MapGet(Path, Get).WithName("PageSettings").ExcludeFromDescription();

    private static Ok<PageSettings> Get(IOptions<ExplainOptions> options) => TypedResults.Ok(new PageSettings(options.Value.DefaultModel));
}
