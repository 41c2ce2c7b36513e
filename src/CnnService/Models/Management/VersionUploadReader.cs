using CnnService.Engine.Runtime;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace CnnService.Models.Management;

/// <summary>
/// Reads an upload request into a staging folder. The body is either multipart/form-data, whose file parts are
/// the version's files (model.json, weights.safetensors, model.onnx or any *.onnx, config.json, labels.txt) or one
/// .tar.gz/.tgz/.zip of a version folder; or the bare bytes of a .tar.gz or .zip (told by their magic numbers) or,
/// as application/octet-stream or application/onnx, of one .onnx file. Archives are spooled to
/// <paramref name="scratch"/> first (a zip is read from its end).
/// </summary>
internal sealed class VersionUploadReader(string staging, string scratch, ModelUploadOptions limits)
{
    private readonly VersionFolderWriter _writer = new(staging, limits);

    public async Task ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.HasFormContentType && MediaTypeHeaderValue.TryParse(request.ContentType, out MediaTypeHeaderValue? type)
            && type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            await ReadMultipartAsync(request.Body, HeaderUtilities.RemoveQuotes(type.Boundary).ToString(), cancellationToken);
            return;
        }

        string spooled = await SpoolAsync(request.Body, "body", cancellationToken);
        string? kind = await SniffAsync(spooled, cancellationToken);
        if (kind is not null)
        {
            await ExtractAsync(spooled, kind, cancellationToken);
            return;
        }

        string? mediaType = MediaTypeHeaderValue.TryParse(request.ContentType, out type) ? type.MediaType.ToString() : null;
        if (mediaType is not ("application/octet-stream" or "application/onnx"))
            throw new RepositoryException(RepositoryErrorKind.Unsupported,
                "Send a version as multipart/form-data (model.json and weights.safetensors, or a model.onnx, or one .tar.gz or .zip), " +
                "or the bytes of a .tar.gz or .zip, or of an .onnx file as application/octet-stream.");
        _writer.CountEntry();
        await using FileStream onnx = File.OpenRead(spooled);
        await _writer.WriteAsync(ModelLoader.OnnxFile, onnx, "the request body", cancellationToken);
    }

    private async Task ReadMultipartAsync(Stream body, string boundary, CancellationToken cancellationToken)
    {
        if (boundary.Length == 0) throw new UploadRefusedException("The multipart body has no boundary.");
        // The section length limit is ours (counted while writing); the reader's own default would cut at 128 MB.
        var reader = new MultipartReader(boundary, body) { BodyLengthLimit = null };
        int parts = 0;
        bool archive = false;
        try
        {
            while (await reader.ReadNextSectionAsync(cancellationToken) is MultipartSection section)
            {
                parts++;
                if (archive) throw new UploadRefusedException("An archive part must be the upload's only part.");
                _writer.CountEntry();
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out ContentDispositionHeaderValue? disposition))
                    throw new UploadRefusedException("A multipart part has no Content-Disposition naming its file.");
                string raw = HeaderUtilities.RemoveQuotes(disposition.FileName.HasValue ? disposition.FileName : disposition.Name).ToString();
                string[] segments = ArchiveLayout.Segments(raw);
                if (segments.Length != 1) throw new UploadRefusedException($"Multipart part \"{raw}\": a file name, not a path.");
                string name = segments[0];
                string? kind = KindOf(name);
                if (kind is not null)
                {
                    if (parts > 1) throw new UploadRefusedException("An archive part must be the upload's only part.");
                    archive = true;
                    await ExtractAsync(await SpoolAsync(section.Body, "archive", cancellationToken), kind, cancellationToken);
                    continue;
                }

                if (name.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)) name = ModelLoader.OnnxFile;
                await _writer.WriteAsync(name, section.Body, raw, cancellationToken);
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException and not BadHttpRequestException)
        {
            // A malformed multipart body (a body past the size limit stays the 413 it is).
            throw new UploadRefusedException($"The multipart body cannot be read: {e.Message}");
        }

        if (parts == 0) throw new UploadRefusedException("The multipart body holds no file.");
    }

    private static string? KindOf(string fileName) =>
        fileName.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) || fileName.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase) ? "tar.gz"
        : fileName.EndsWith(".zip", StringComparison.OrdinalIgnoreCase) ? "zip"
        : null;

    private async Task ExtractAsync(string path, string kind, CancellationToken cancellationToken)
    {
        await using FileStream file = new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true);
        if (kind == "zip") await ArchiveExtractor.ExtractZipAsync(file, _writer, cancellationToken);
        else await ArchiveExtractor.ExtractTarGzAsync(file, _writer, cancellationToken);
    }

    /// <summary>gzip (1F 8B) or zip (PK 03 04, or PK 05 06 when empty) by their first bytes; null for anything else.</summary>
    private static async Task<string?> SniffAsync(string path, CancellationToken cancellationToken)
    {
        byte[] head = new byte[4];
        await using FileStream file = File.OpenRead(path);
        int read = await file.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken);
        if (read >= 2 && head[0] == 0x1F && head[1] == 0x8B) return "tar.gz";
        if (read == 4 && head[0] == (byte)'P' && head[1] == (byte)'K' && (head[2], head[3]) is (3, 4) or (5, 6)) return "zip";
        return null;
    }

    /// <summary>Copies the stream to a scratch file, as it arrives; the body's own limit (Models:MaxUploadBytes) bounds it.</summary>
    private async Task<string> SpoolAsync(Stream source, string name, CancellationToken cancellationToken)
    {
        string path = Path.Combine(scratch, name);
        await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
        {
            long length = 0;
            byte[] buffer = new byte[81920];
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
            {
                length += read;
                if (length > limits.MaxUploadBytes)
                    throw new UploadRefusedException($"The upload is larger than the limit of {limits.MaxUploadBytes:N0} bytes (Models:MaxUploadBytes).");
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }

        return path;
    }
}
