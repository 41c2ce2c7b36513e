namespace CnnService.Engine.Onnx;

/// <summary>An operator set the model imports (<c>OperatorSetIdProto</c>); domain "" is the default ONNX domain.</summary>
public readonly record struct OnnxOpsetImport(string Domain, long Version);

/// <summary>
/// An ONNX model (<c>ModelProto</c>): what <see cref="OnnxReader"/> reads and <see cref="OnnxWriter"/>
/// writes. Functions, training info and sparse initializers are not read.
/// </summary>
public sealed class OnnxModel
{
    /// <summary>The IR version (8 is what ONNX 1.10 to 1.12 write; 3 is the oldest with opset imports).</summary>
    public long IrVersion { get; init; } = 8;

    public IReadOnlyList<OnnxOpsetImport> OpsetImports { get; init; } = [];

    public string ProducerName { get; init; } = "";

    public string ProducerVersion { get; init; } = "";

    public string Domain { get; init; } = "";

    public long ModelVersion { get; init; }

    public string DocString { get; init; } = "";

    public required OnnxGraph Graph { get; init; }

    /// <summary>Free-form key/value metadata, in the file's order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> MetadataProps { get; init; } = [];

    /// <summary>The imported version of the default ONNX domain ("" or "ai.onnx"), or null when not imported.</summary>
    public long? DefaultOpsetVersion
    {
        get
        {
            foreach (OnnxOpsetImport o in OpsetImports)
            {
                if (o.Domain is "" or "ai.onnx")
                    return o.Version;
            }

            return null;
        }
    }
}
