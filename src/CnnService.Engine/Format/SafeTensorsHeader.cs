using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Unicode;

namespace CnnService.Engine.Format;

/// <summary>
/// The validated header of a safetensors file: where each tensor's bytes are and what they mean.
/// Every length is checked against the file before anything is sliced or allocated, so a hostile
/// file yields a <see cref="ModelFormatException"/> and nothing else.
/// </summary>
internal sealed class SafeTensorsHeader
{
    /// <summary>The reference implementation's limit.</summary>
    public const long MaxHeaderBytes = 100_000_000;
    /// <summary>More elements than a .NET array can hold cannot be loaded anyway.</summary>
    public const long MaxElements = int.MaxValue;

    /// <summary>One tensor; <see cref="Begin"/>/<see cref="End"/> are offsets in the data buffer.</summary>
    public sealed record Entry(string Name, string Dtype, int[] Shape, long Begin, long End);

    /// <summary>Offset of the data buffer in the file (8 + header length).</summary>
    public int DataStart { get; }
    /// <summary>Tensors in header order.</summary>
    public IReadOnlyList<Entry> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    private SafeTensorsHeader(int dataStart, IReadOnlyList<Entry> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        DataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
    }

    public static SafeTensorsHeader Parse(ReadOnlySpan<byte> file, string fileName)
    {
        var reader = new SafeTensorsEntryReader(fileName);
        if (file.Length < 8)
            throw reader.Error($"file is {file.Length} bytes, too short for a safetensors file (the header length alone takes 8)");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (n > MaxHeaderBytes)
            throw reader.Error($"header length {n} exceeds the limit of {MaxHeaderBytes} bytes");
        if (n > (ulong)(file.Length - 8))
            throw reader.Error($"header length {n} goes beyond the end of the file ({file.Length} bytes)");
        var header = file.Slice(8, (int)n);
        int dataStart = 8 + (int)n;
        if (!Utf8.IsValid(header))
            throw reader.Error("header is not valid UTF-8");

        JsonDocument doc;
        try { doc = JsonDocument.Parse(header.ToArray()); }
        catch (JsonException e) { throw new ModelFormatException($"{fileName}: header is not valid JSON: {e.Message}", e); }
        using (doc)
        {
            var (tensors, metadata) = reader.Read(doc.RootElement, file.Length - dataStart);
            return new SafeTensorsHeader(dataStart, tensors, metadata);
        }
    }
}
