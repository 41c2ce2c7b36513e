using Microsoft.AspNetCore.Http.Metadata;

namespace CnnService.Models.Management;

/// <summary>Registers the upload limits (section <c>Models</c>).</summary>
public static class ManagementRegistration
{
    public static IServiceCollection AddModelManagement(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ModelUploadOptions>().Bind(configuration.GetSection(ModelsOptions.Section))
            .Validate(o => o.MaxUploadBytes >= 1024, "Models:MaxUploadBytes must be at least 1 KiB.")
            .Validate(o => o.MaxUploadEntryBytes >= 1, "Models:MaxUploadEntryBytes must be positive.")
            .Validate(o => o.MaxUploadEntries >= 2, "Models:MaxUploadEntries must be at least 2.")
            .ValidateOnStart();
        return services;
    }
}

/// <summary>An endpoint's own request body limit, which <c>BodyLimitMiddleware</c> applies instead of <c>Limits:MaxBodyBytes</c>.</summary>
public sealed record BodySizeLimit(long? MaxRequestBodySize) : IRequestSizeLimitMetadata;
