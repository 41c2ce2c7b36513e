using CnnService.Explain;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CnnService.Hosting;

/// <summary>Registers the explain endpoints' services: options, the activation cache, the explainer.</summary>
public static class ExplainRegistration
{
    public static IServiceCollection AddExplain(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ExplainOptions>().Bind(configuration.GetSection(ExplainOptions.Section))
            .Validate(o => o.CacheSeconds >= 1, "Explain:CacheSeconds must be at least 1.")
            .Validate(o => o.CacheMegabytes >= 1, "Explain:CacheMegabytes must be at least 1.")
            .Validate(o => o.MapSize is >= Endpoints.ExplainEndpoints.MinMapSize and <= Endpoints.ExplainEndpoints.MaxMapSize, "Explain:MapSize must be 8..512.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ExplainCache>();
        services.AddSingleton<Explainer>();
        return services;
    }
}
