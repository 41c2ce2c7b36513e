using System.Buffers;
using CnnService.Engine.Format;
using CnnService.Inference;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace CnnService.Predict;

/// <summary>
/// Turns a predict request into normalised model inputs, whatever form it came in: multipart form
/// files (any part name, one image per file, in order), a raw image body, or JSON
/// (<see cref="JsonPredictReader"/>). The body is read into memory under a hard cap first, so the
/// size limit answers 413 the same way on every server (Kestrel, the test server) and for every form.
/// </summary>
public sealed class PredictRequestReader(PredictLimits limits, ImageDecoding decodeImage)
{
    public static readonly string[] ImageTypes = ["image/png", "image/jpeg", "image/webp", "image/gif", "image/bmp"];

    public async Task<PredictInputs> ReadAsync(HttpRequest request, InputSpec input, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limits.MaxBodyBytes) throw TooLarge();
        string? contentType = request.ContentType;
        if (string.IsNullOrEmpty(contentType) || !MediaTypeHeaderValue.TryParse(contentType, out MediaTypeHeaderValue? media))
            throw InferenceException.Unsupported($"Send images as multipart/form-data, as a raw body ({string.Join(", ", ImageTypes)}), or JSON; the request has no usable Content-Type.");

        string type = media.MediaType.Value!.ToLowerInvariant();
        PredictInputs inputs = CreateInputs(input);
        try
        {
            if (type == "multipart/form-data")
            {
                await ReadMultipartAsync(request, media, input, inputs, cancellationToken);
            }
            else
            {
                (byte[] body, int length) = await ReadBodyAsync(request.Body, cancellationToken);
                try
                {
                    if (length == 0) throw InferenceException.Invalid("The request body is empty.");
                    if (type is "application/json" || type.EndsWith("+json", StringComparison.Ordinal))
                        JsonPredictReader.Read(body.AsSpan(0, length), input, inputs, decodeImage);
                    else if (ImageTypes.Contains(type))
                        decodeImage(body.AsSpan(0, length), input, inputs.Next(), "the body");
                    else
                        throw InferenceException.Unsupported($"Content-Type {type} is not accepted; use multipart/form-data, {string.Join(", ", ImageTypes)} or application/json.");
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(body);
                }
            }

            return inputs;
        }
        catch
        {
            inputs.Dispose();
            throw;
        }
    }

    /// <summary>The decoder predict turns encoded images into model inputs with, for every reader of the same images.</summary>
    public ImageDecoding DecodeImage => decodeImage;

    /// <summary>An empty set of inputs for <paramref name="input"/>, holding at most the per-request number of images.</summary>
    public PredictInputs CreateInputs(InputSpec input) => new(input.Channels * input.Height * input.Width, limits.MaxImagesPerRequest);

    /// <summary>
    /// The whole body, whatever its Content-Type, under the same cap (413) as every predict body, into a
    /// rented buffer the caller returns to <see cref="ArrayPool{T}.Shared"/>. For protocols that read JSON
    /// bodies themselves (TensorFlow Serving's clients often send it as form-urlencoded, as curl -d does).
    /// </summary>
    public Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limits.MaxBodyBytes) throw TooLarge();
        return ReadBodyAsync(request.Body, cancellationToken);
    }

    private async Task ReadMultipartAsync(HttpRequest request, MediaTypeHeaderValue media, InputSpec input, PredictInputs inputs, CancellationToken cancellationToken)
    {
        string? boundary = HeaderUtilities.RemoveQuotes(media.Boundary).Value;
        if (string.IsNullOrEmpty(boundary)) throw InferenceException.Invalid("The multipart/form-data Content-Type has no boundary.");
        (byte[] body, int length) = await ReadBodyAsync(request.Body, cancellationToken);
        try
        {
            using var stream = new MemoryStream(body, 0, length, writable: false);
            var reader = new MultipartReader(boundary, stream) { BodyLengthLimit = limits.MaxBodyBytes };
            int files = 0;
            MultipartSection? section;
            while ((section = await ReadSectionAsync(reader, cancellationToken)) is not null)
            {
                // Plain form fields (no file name) are not images; every file part is one, whatever its name.
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out ContentDispositionHeaderValue? disposition)
                    || !(disposition.FileName.HasValue || disposition.FileNameStar.HasValue))
                    continue;
                (byte[] file, int fileLength) = await ReadSectionBodyAsync(section, cancellationToken);
                try
                {
                    string name = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value ?? "";
                    if (fileLength == 0) throw InferenceException.Invalid($"File {files} (\"{name}\") is empty.");
                    decodeImage(file.AsSpan(0, fileLength), input, inputs.Next(), $"file {files} (\"{name}\")");
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(file);
                }

                files++;
            }

            if (files == 0) throw InferenceException.Invalid("The form holds no files; attach one image file per prediction.");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    private static async Task<MultipartSection?> ReadSectionAsync(MultipartReader reader, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.ReadNextSectionAsync(cancellationToken);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            throw Malformed(e);
        }
    }

    private static InferenceException Malformed(Exception e) => InferenceException.Invalid($"The multipart body is malformed: {e.Message}");

    private async Task<(byte[] Buffer, int Length)> ReadSectionBodyAsync(MultipartSection section, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadBodyAsync(section.Body, cancellationToken);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            throw Malformed(e);
        }
    }

    /// <summary>The whole stream into a rented buffer (returned by the caller), failing with 413 past the cap.</summary>
    private async Task<(byte[] Buffer, int Length)> ReadBodyAsync(Stream body, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length >= limits.MaxBodyBytes + 1) throw TooLarge();
                    byte[] bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limits.MaxBodyBytes + 1));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                int read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0) break;
                length += read;
                if (length > limits.MaxBodyBytes) throw TooLarge();
            }

            return (buffer, length);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw TooLarge();
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private InferenceException TooLarge() =>
        InferenceException.TooLarge($"The request body is larger than the limit of {limits.MaxBodyBytes:N0} bytes.");
}
