using System.Buffers;
using CnnService.Predict;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace CnnService.Hosting;

/// <summary>
/// Holds every request body to <see cref="PredictLimits.MaxBodyBytes"/> (or an endpoint's own <see cref="IRequestSizeLimitMetadata"/>) and, when a request is answered 413
/// before its body was read to the end, reads and discards the rest (at most
/// <see cref="PredictLimits.MaxDiscardBytes"/> in all, for at most <see cref="PredictLimits.DiscardSeconds"/>)
/// before the connection closes, as nginx's lingering close does. Without that, a client that sends its whole
/// body before reading the answer (Python's http.client and requests, many SDKs) finds the connection reset
/// and reports a network error instead of the 413. Kestrel's own limit is raised to the discard ceiling for
/// the request so that the discard can read; the limit itself is enforced here, with Kestrel's exception.
/// </summary>
public sealed class BodyLimitMiddleware(RequestDelegate next, IOptions<PredictLimits> options, ILogger<BodyLimitMiddleware> logger)
{
    private const int DiscardBufferBytes = 16 * 1024;
    private readonly PredictLimits _limits = options.Value;

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
        {
            await next(context);
            return;
        }

        // An endpoint may declare its own limit (model uploads are larger than any predict).
        long limit = context.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>()?.MaxRequestBodySize ?? _limits.MaxBodyBytes;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } kestrelLimit)
            kestrelLimit.MaxRequestBodySize = Math.Max(_limits.MaxDiscardBytes, limit);
        Stream original = context.Request.Body;
        var body = new BodyLimitStream(original, limit);
        context.Request.Body = body;
        // A refused body that is too big to discard leaves unread bytes behind: say the connection ends.
        context.Response.OnStarting(() =>
        {
            if (context.Response.StatusCode == StatusCodes.Status413PayloadTooLarge && !body.Finished)
                context.Response.Headers.Connection = "close";
            return Task.CompletedTask;
        });
        try
        {
            await next(context);
        }
        finally
        {
            context.Request.Body = original;
        }

        if (context.Response.StatusCode == StatusCodes.Status413PayloadTooLarge && !body.Finished && !context.RequestAborted.IsCancellationRequested)
            await DiscardAsync(context, original, body.BytesRead);
    }

    private async Task DiscardAsync(HttpContext context, Stream original, long alreadyRead)
    {
        long ceiling = _limits.MaxDiscardBytes;
        if (context.Request.ContentLength > ceiling) return;  // hopeless: the connection closes on it, as before

        await context.Response.Body.FlushAsync(context.RequestAborted);  // the answer first, for a client that reads while it sends
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(TimeSpan.FromSeconds(_limits.DiscardSeconds));
        byte[] buffer = ArrayPool<byte>.Shared.Rent(DiscardBufferBytes);
        long total = alreadyRead;
        try
        {
            int read;
            while (total <= ceiling && (read = await original.ReadAsync(buffer, timeout.Token)) > 0) total += read;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or BadHttpRequestException)
        {
            // Out of time, past Kestrel's raised limit, or the client went away: the connection closes, as it did before.
            logger.LogDebug("Stopped discarding a refused request body after {Bytes} bytes: {Reason}", total, e.Message);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
