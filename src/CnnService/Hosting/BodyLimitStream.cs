namespace CnnService.Hosting;

/// <summary>
/// A request body that fails with the same 413 <see cref="BadHttpRequestException"/> Kestrel throws once more
/// than <c>limit</c> bytes have been read, and counts what was read so the rest can be discarded afterwards.
/// </summary>
internal sealed class BodyLimitStream(Stream inner, long limit) : Stream
{
    public long BytesRead { get; private set; }

    /// <summary>True once the body has been read to its end.</summary>
    public bool Finished { get; private set; }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) =>
        count == 0 ? 0 : Count(inner.Read(buffer, offset, Room(count)));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        buffer.Length == 0 ? 0 : Count(await inner.ReadAsync(buffer[..Room(buffer.Length)], cancellationToken));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // One byte past the limit is enough to know it is exceeded; reading no further keeps the rest for the discard.
    private int Room(int count)
    {
        if (BytesRead > limit) throw TooLarge();
        return (int)Math.Min(count, limit + 1 - BytesRead);
    }

    private int Count(int read)
    {
        if (read == 0) Finished = true;
        BytesRead += read;
        if (BytesRead > limit) throw TooLarge();
        return read;
    }

    private BadHttpRequestException TooLarge() =>
        new($"The request body is larger than the limit of {limit:N0} bytes.", StatusCodes.Status413PayloadTooLarge);

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
