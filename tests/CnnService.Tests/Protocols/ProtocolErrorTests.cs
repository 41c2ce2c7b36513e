using CnnService.Inference;
using CnnService.Protocols.TfServing;
using CnnService.Protocols.V1;
using CnnService.Protocols.V2;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CnnService.Tests.Protocols;

/// <summary>Each REST protocol answers every kind of the one typed error with its own status, in one place per protocol.</summary>
public sealed class ProtocolErrorTests
{
    private static readonly TimeSpan Three = TimeSpan.FromSeconds(3);

    [Theory]
    [InlineData(InferenceErrorKind.InvalidArgument, 400, "Invalid input")]
    [InlineData(InferenceErrorKind.NotFound, 404, "Not found")]
    [InlineData(InferenceErrorKind.TooLarge, 413, "Request too large")]
    [InlineData(InferenceErrorKind.UnsupportedMediaType, 415, "Unsupported media type")]
    [InlineData(InferenceErrorKind.Busy, 429, "Too many requests")]
    [InlineData(InferenceErrorKind.NotReady, 503, "Not ready")]
    public void V1_answers_a_problem_with_the_status_and_title_of_the_kind(InferenceErrorKind kind, int status, string title)
    {
        ProblemHttpResult problem = V1Problems.From(new DefaultHttpContext(), new InferenceException(kind, "what went wrong"));

        Assert.Equal(status, problem.StatusCode);
        Assert.Equal(title, problem.ProblemDetails.Title);
        Assert.Equal("what went wrong", problem.ProblemDetails.Detail);
    }

    [Theory]
    [InlineData(InferenceErrorKind.InvalidArgument, 400)]
    [InlineData(InferenceErrorKind.NotFound, 404)]
    [InlineData(InferenceErrorKind.TooLarge, 413)]
    [InlineData(InferenceErrorKind.UnsupportedMediaType, 415)]
    [InlineData(InferenceErrorKind.Busy, 429)]
    [InlineData(InferenceErrorKind.NotReady, 503)]
    public void Tf_serving_answers_its_error_object_with_the_status_of_the_kind(InferenceErrorKind kind, int status)
    {
        var result = (JsonHttpResult<TfError>)TfServingErrors.From(new DefaultHttpContext(), new InferenceException(kind, "what went wrong"));

        Assert.Equal(status, result.StatusCode);
        Assert.Equal("what went wrong", result.Value!.Error);
    }

    [Theory]
    [InlineData(InferenceErrorKind.InvalidArgument, 400)]
    [InlineData(InferenceErrorKind.NotFound, 404)]
    [InlineData(InferenceErrorKind.TooLarge, 413)]
    [InlineData(InferenceErrorKind.UnsupportedMediaType, 415)]
    [InlineData(InferenceErrorKind.Busy, 429)]
    [InlineData(InferenceErrorKind.NotReady, 503)]
    public void V2_answers_its_error_object_with_the_status_of_the_kind(InferenceErrorKind kind, int status)
    {
        var result = (JsonHttpResult<V2Error>)V2Results.Error(new DefaultHttpContext(), new InferenceException(kind, "what went wrong"));

        Assert.Equal(status, result.StatusCode);
        Assert.Equal("what went wrong", result.Value!.Error);
    }

    [Fact]
    public void Every_protocol_tells_a_busy_client_when_to_retry()
    {
        var busy = new InferenceException(InferenceErrorKind.Busy, "busy", Three);
        var contexts = new[] { new DefaultHttpContext(), new DefaultHttpContext(), new DefaultHttpContext() };

        V1Problems.From(contexts[0], busy);
        TfServingErrors.From(contexts[1], busy);
        V2Results.Error(contexts[2], busy);

        Assert.All(contexts, c => Assert.Equal("3", c.Response.Headers.RetryAfter.ToString()));
    }

    [Fact]
    public void A_refusal_without_a_retry_time_sets_no_retry_after()
    {
        var context = new DefaultHttpContext();

        V1Problems.From(context, InferenceException.Invalid("bad"));

        Assert.False(context.Response.Headers.ContainsKey("Retry-After"));
    }
}
