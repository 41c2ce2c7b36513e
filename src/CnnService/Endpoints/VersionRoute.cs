using System.Globalization;
using CnnService.Inference;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CnnService.Endpoints;

/// <summary>The <c>{version}</c> route segment: a positive integer, or a 400 that says so.</summary>
public static class VersionRoute
{
    public static bool TryParse(string text, out int version, out ProblemHttpResult problem)
    {
        problem = null!;
        if (TryParse(text, out version)) return true;
        problem = TypedResults.Problem(title: "Invalid version", detail: Invalid(text), statusCode: StatusCodes.Status400BadRequest);
        return false;
    }

    /// <summary>The optional <c>{version}</c> of the current route (see <see cref="TryRead"/>), or an InvalidArgument <see cref="InferenceException"/>.</summary>
    public static int? Read(HttpContext context)
    {
        if (context.Request.RouteValues["version"] is not string text) return null;
        return TryParse(text, out int version) ? version : throw InferenceException.Invalid(Invalid(text));
    }

    private static bool TryParse(string text, out int version) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out version) && version > 0;

    private static string Invalid(string text) => $"Version \"{text}\" is not a positive integer.";

    /// <summary>
    /// The optional <c>{version}</c> of the current route: null on the default-version route, the
    /// number on the <c>/versions/{version}/...</c> one. Lets one handler serve both routes.
    /// </summary>
    public static bool TryRead(HttpContext context, out int? version, out ProblemHttpResult problem)
    {
        version = null;
        problem = null!;
        if (context.Request.RouteValues["version"] is not string text) return true;
        if (!TryParse(text, out int v, out problem)) return false;
        version = v;
        return true;
    }
}
