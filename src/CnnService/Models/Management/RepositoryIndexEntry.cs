namespace CnnService.Models.Management;

/// <summary>One row of Triton's repository index: a version on disk or served, READY, LOADING or UNAVAILABLE, and why.</summary>
public sealed record RepositoryIndexEntry(string Name, string Version, string State, string Reason)
{
    public const string Ready = "READY", Loading = "LOADING", Unavailable = "UNAVAILABLE";
}
