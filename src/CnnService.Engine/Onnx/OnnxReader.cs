using CnnService.Engine.Format;

namespace CnnService.Engine.Onnx;

/// <summary>
/// Reads ONNX model files (protocol buffers <c>ModelProto</c>) without any native or protobuf
/// library. Anything wrong with the file — truncation, an overlong varint, a field with the wrong
/// wire type, impossible dims, tensor data that disagrees with its shape, external data outside the
/// model's folder, no graph — is a <see cref="ModelFormatException"/> whose message names the file
/// and what is wrong. Sizes the file declares are checked against the bytes present before anything
/// of that size is allocated.
/// </summary>
public static class OnnxReader
{
    /// <summary>Files larger than this are refused before being read (a byte array cannot be larger anyway).</summary>
    public const long MaxFileBytes = int.MaxValue - 64;

    /// <summary>Reads the model at <paramref name="path"/>; external tensor data is looked up in the file's folder.</summary>
    /// <exception cref="ModelFormatException">The file is not a readable ONNX model.</exception>
    /// <exception cref="IOException">The model file itself cannot be opened or read (missing, no permission).</exception>
    public static OnnxModel Read(string path)
    {
        string fileName = Path.GetFileName(path);
        byte[] bytes;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1))
        {
            if (stream.Length > MaxFileBytes)
                throw new ModelFormatException($"{fileName}: {stream.Length} bytes is larger than the {MaxFileBytes}-byte limit for an ONNX file (keep large weights as external data)");
            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }

        string folder = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        return Read(bytes, folder, fileName);
    }

    /// <summary>
    /// Reads a model from its bytes. Tensors may share <paramref name="bytes"/> (their raw data is not
    /// copied), so the caller must not change the array afterwards.
    /// </summary>
    /// <param name="bytes">The whole file.</param>
    /// <param name="folder">Where external tensor data lives; null refuses any external data.</param>
    /// <param name="fileName">The name error messages give the file.</param>
    /// <exception cref="ModelFormatException">The bytes are not a readable ONNX model.</exception>
    public static OnnxModel Read(byte[] bytes, string? folder, string? fileName = null)
    {
        var context = new OnnxReadContext(bytes, fileName ?? "ONNX model", folder);
        var reader = new ProtoReader(bytes, context.FileName);
        if (bytes.Length == 0)
            throw reader.Error("the file is empty");
        return OnnxMessageReader.ReadModel(reader, context);
    }
}

/// <summary>What every message reader of one file needs: the bytes (for zero-copy tensor data), its name and folder.</summary>
internal sealed class OnnxReadContext(byte[] bytes, string fileName, string? folder)
{
    public byte[] Bytes { get; } = bytes;

    public string FileName { get; } = fileName;

    public string? Folder { get; } = folder;

    public ModelFormatException Error(string message) => new($"{FileName}: {message}");
}
