using System.Net.Sockets;
using System.Text;

namespace CnnService.Tests.Support;

/// <summary>
/// HTTP/1.1 spoken by hand over a socket, the way Python's http.client does it: the whole request, body
/// included, is written before a single byte of the answer is read. No <c>Expect: 100-continue</c>.
/// </summary>
internal static class RawHttpClient
{
    public sealed record Answer(int Status, IReadOnlyDictionary<string, string> Headers, string Body);

    /// <summary>Sends the body with a Content-Length header, or chunked when <paramref name="chunked"/>.</summary>
    public static async Task<Answer> SendThenReadAsync(Uri server, string path, string contentType, byte[] body, bool chunked, CancellationToken cancellationToken)
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(server.Host, server.Port, cancellationToken);
        NetworkStream stream = socket.GetStream();

        string framing = chunked ? "Transfer-Encoding: chunked" : $"Content-Length: {body.Length}";
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: {server.Authority}\r\nContent-Type: {contentType}\r\n{framing}\r\n\r\n"), cancellationToken);
        const int piece = 64 * 1024;
        for (int offset = 0; offset < body.Length; offset += piece)
        {
            int length = Math.Min(piece, body.Length - offset);
            if (chunked) await stream.WriteAsync(Encoding.ASCII.GetBytes($"{length:x}\r\n"), cancellationToken);
            await stream.WriteAsync(body.AsMemory(offset, length), cancellationToken);
            if (chunked) await stream.WriteAsync("\r\n"u8.ToArray(), cancellationToken);
        }

        if (chunked) await stream.WriteAsync("0\r\n\r\n"u8.ToArray(), cancellationToken);
        return await ReadAnswerAsync(stream, cancellationToken);
    }

    private static async Task<Answer> ReadAnswerAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int headerEnd;
        while ((headerEnd = IndexOfHeaderEnd(received)) < 0)
        {
            int read = await stream.ReadAsync(buffer, cancellationToken);
            if (read == 0) throw new IOException($"The server closed the connection after {received.Length} bytes of answer.");
            received.Write(buffer, 0, read);
        }

        string[] lines = Encoding.ASCII.GetString(received.GetBuffer(), 0, headerEnd).Split("\r\n");
        int status = int.Parse(lines[0].Split(' ')[1]);
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        int start = headerEnd + 4;
        if (headers.TryGetValue("Content-Length", out string? contentLength))
        {
            int length = int.Parse(contentLength);
            await FillAsync(stream, received, start + length, cancellationToken);
            return new Answer(status, headers, Encoding.UTF8.GetString(received.GetBuffer(), start, length));
        }

        // Transfer-Encoding: chunked: hex size, CRLF, data, CRLF, ... up to the zero-size chunk.
        var body = new MemoryStream();
        while (true)
        {
            int lineEnd;
            while ((lineEnd = received.GetBuffer().AsSpan(start, (int)received.Length - start).IndexOf("\r\n"u8)) < 0)
                await FillAsync(stream, received, (int)received.Length + 1, cancellationToken);
            int size = Convert.ToInt32(Encoding.ASCII.GetString(received.GetBuffer(), start, lineEnd).Split(';')[0], 16);
            start += lineEnd + 2;
            if (size == 0) break;
            await FillAsync(stream, received, start + size + 2, cancellationToken);
            body.Write(received.GetBuffer(), start, size);
            start += size + 2;
        }

        return new Answer(status, headers, Encoding.UTF8.GetString(body.ToArray()));
    }

    private static async Task FillAsync(NetworkStream stream, MemoryStream received, int length, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        while (received.Length < length)
        {
            int read = await stream.ReadAsync(buffer, cancellationToken);
            if (read == 0) throw new IOException("The server closed the connection in the middle of the answer.");
            received.Write(buffer, 0, read);
        }
    }

    private static int IndexOfHeaderEnd(MemoryStream received) =>
        received.GetBuffer().AsSpan(0, (int)received.Length).IndexOf("\r\n\r\n"u8);
}
