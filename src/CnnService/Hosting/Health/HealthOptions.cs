namespace CnnService.Hosting.Health;

/// <summary>Readiness thresholds (configuration section <c>Health</c>).</summary>
public sealed class HealthOptions
{
    public const string Section = "Health";

    /// <summary>Below this much free space where train jobs write their checkpoints, the service is not ready.</summary>
    public long MinFreeDiskMegabytes { get; set; } = 512;
}
