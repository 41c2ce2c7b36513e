using System.Text.Json.Serialization;

namespace CnnService.Jobs;

/// <summary>
/// Where a train job is. <c>queued</c> and <c>running</c> are live; the other four are where a run
/// stops. <c>interrupted</c> means the service stopped under it (shutdown or crash) rather than anyone
/// asking, and is what <c>resume</c> exists for; <c>canceled</c> is a user's decision.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<TrainJobState>))]
public enum TrainJobState
{
    [JsonStringEnumMemberName("queued")] Queued,
    [JsonStringEnumMemberName("running")] Running,
    [JsonStringEnumMemberName("succeeded")] Succeeded,
    [JsonStringEnumMemberName("failed")] Failed,
    [JsonStringEnumMemberName("canceled")] Canceled,
    [JsonStringEnumMemberName("interrupted")] Interrupted,
}

public static class TrainJobStateExtensions
{
    /// <summary>Queued and running jobs are live: they can be canceled and their event stream is still open.</summary>
    public static bool IsLive(this TrainJobState state) => state is TrainJobState.Queued or TrainJobState.Running;

    /// <summary>The state's name as in the API and the database: the member name in lower case.</summary>
    public static string Name(this TrainJobState state) => state.ToString().ToLowerInvariant();
}
