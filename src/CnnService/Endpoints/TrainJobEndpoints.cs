using System.Net.ServerSentEvents;
using CnnService.Jobs;
using CnnService.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace CnnService.Endpoints;

/// <summary>
/// <c>/v1/train-jobs</c>: queue a training run, follow it (polling or server-sent events), cancel it,
/// resume it. Every call, reading included, needs the API key (<see cref="ApiKeyFilter"/>): a job's record
/// holds server paths and settings that are only the operator's business.
/// </summary>
public static class TrainJobEndpoints
{
    public static RouteGroupBuilder MapTrainJobEndpoints(this IEndpointRouteBuilder routes)
    {
        RouteGroupBuilder group = routes.MapGroup("/v1/train-jobs").WithTags("Train jobs");

        group.MapPost("/", CreateAsync)
            .RequireApiKey()
            .Accepts<TrainJobRequest>("application/json")
            .WithName("CreateTrainJob")
            .WithSummary("Queue a train job")
            .WithDescription("Validates the request (architecture or layer list, dataset, training settings), queues the job and answers " +
                             "202 with its record and its Location. The job trains in the background, one at a time unless Jobs:Concurrency " +
                             "says otherwise, and publishes its model as the next version of the model name when it succeeds.");

        group.MapGet("/", List)
            .RequireApiKey()
            .WithName("ListTrainJobs")
            .WithSummary("List train jobs")
            .WithDescription("Every train job, newest first, live ones as of this moment.");

        group.MapGet("/{id}", Get)
            .RequireApiKey()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetTrainJob")
            .WithSummary("Get a train job")
            .WithDescription("The job's state, its position (epoch, step, steps per epoch), the running loss and accuracy, the validation " +
                             "accuracy, every finished epoch, images per second, its timestamps, the model version it wrote and its error, if any.");

        group.MapPost("/{id}/cancel", Cancel)
            .RequireApiKey()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithName("CancelTrainJob")
            .WithSummary("Cancel a train job")
            .WithDescription("A queued job is canceled at once (200). A running job is asked to stop (202): it stops at its next step, " +
                             "writes its checkpoint and ends 'canceled'. A finished job, or one already publishing its model, is a 409.");

        group.MapPost("/{id}/resume", Resume)
            .RequireApiKey()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithName("ResumeTrainJob")
            .WithSummary("Resume a stopped train job")
            .WithDescription("Queues an interrupted job again, or a failed or canceled one that has a checkpoint; it continues from its last " +
                             "checkpoint with the same settings (an interrupted job with no checkpoint yet starts over). Anything else is a 409.");

        group.MapGet("/{id}/events", Events)
            .RequireApiKey()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("WatchTrainJob")
            .WithSummary("Follow a train job as server-sent events")
            .WithDescription("A text/event-stream: a 'state' event with the job now, then 'progress' events (step reports at most every " +
                             "Jobs:ProgressIntervalMilliseconds, every epoch's end) and a 'state' event at each change of state; the stream ends " +
                             "when the job finishes. For a finished job: its final state, and the stream ends.");

        return group;
    }

    private static async Task<Results<Accepted<TrainJob>, ValidationProblem>> CreateAsync(
        HttpRequest http, TrainJobValidator validator, TrainJobManager jobs, IOptions<JsonOptions> json, CancellationToken cancellationToken)
    {
        (TrainJobRequest? request, Dictionary<string, string[]>? readErrors) = await TrainJobRequestReader.ReadAsync(http, json.Value.SerializerOptions, cancellationToken);
        if (request is null) return TypedResults.ValidationProblem(readErrors!);
        (TrainJobSettings? settings, Dictionary<string, string[]> errors) = validator.Validate(request);
        if (settings is null) return TypedResults.ValidationProblem(errors);
        TrainJob job = jobs.Create(settings);
        return TypedResults.Accepted(Location(job.Id), job);
    }

    private static Ok<IReadOnlyList<TrainJob>> List(TrainJobManager jobs) => TypedResults.Ok(jobs.List());

    private static Results<Ok<TrainJob>, ProblemHttpResult> Get(string id, TrainJobManager jobs) =>
        jobs.Find(id) is TrainJob job ? TypedResults.Ok(job) : NotFound(id);

    private static Results<Ok<TrainJob>, Accepted<TrainJob>, ProblemHttpResult> Cancel(string id, TrainJobManager jobs) => jobs.Cancel(id) switch
    {
        { Status: TrainJobCommandStatus.Done, Job: TrainJob job } => TypedResults.Ok(job),
        { Status: TrainJobCommandStatus.Accepted, Job: TrainJob job } => TypedResults.Accepted(Location(id), job),
        { Status: TrainJobCommandStatus.Conflict } conflict => Conflict(conflict.Reason),
        _ => NotFound(id),
    };

    private static Results<Accepted<TrainJob>, ProblemHttpResult> Resume(string id, TrainJobManager jobs) => jobs.Resume(id) switch
    {
        { Status: TrainJobCommandStatus.Accepted, Job: TrainJob job } => TypedResults.Accepted(Location(id), job),
        { Status: TrainJobCommandStatus.Conflict } conflict => Conflict(conflict.Reason),
        _ => NotFound(id),
    };

    private static Results<ServerSentEventsResult<object>, ProblemHttpResult> Events(string id, TrainJobManager jobs, IHostApplicationLifetime lifetime) =>
        jobs.Watch(id, lifetime.ApplicationStopping) is IAsyncEnumerable<SseItem<object>> events ? TypedResults.ServerSentEvents(events) : NotFound(id);

    private static string Location(string id) => $"/v1/train-jobs/{id}";

    private static ProblemHttpResult NotFound(string id) =>
        TypedResults.Problem($"There is no train job {id}.", statusCode: StatusCodes.Status404NotFound, title: "Train job not found");

    private static ProblemHttpResult Conflict(string? reason) =>
        TypedResults.Problem(reason, statusCode: StatusCodes.Status409Conflict, title: "Not possible in the job's state");
}
