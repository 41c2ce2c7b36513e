using System.Text.Json;
using CnnService.Engine.Runtime;

namespace CnnService.Tests.Support;

/// <summary>
/// The service on a real Kestrel with its gRPC port, over a private repository of two models exported by torch under
/// their users' own tensor names: <c>hf</c> (<c>pixel_values</c> to <c>logits</c>, dynamic batch) and <c>keras</c>
/// (<c>input_1</c> to <c>dense_1</c>, the batch fixed at 1), each version 1 a bare <c>model.onnx</c>.
/// </summary>
public sealed class NamedOnnxModelsServer : IAsyncLifetime
{
    private readonly TempModels _models = new();

    public NamedOnnxModelsServer()
    {
        AddOnnx("hf", "torch_named.onnx");
        AddOnnx("keras", "torch_named_batch1.onnx");
        Server = new GrpcServer(new Dictionary<string, string?> { ["Models:Root"] = _models.Root });
    }

    public GrpcServer Server { get; }

    /// <summary>The seeded [1, 1, 6, 6] input of a fixture and the logits torch computed for it (torch_named.expected.json).</summary>
    public static (float[] Input, float[] Logits) Expected(string fixture)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Fixtures.OnnxProto("torch_named.expected.json")));
        JsonElement entry = doc.RootElement.GetProperty(fixture);
        return (entry.GetProperty("input").EnumerateArray().Select(v => v.GetSingle()).ToArray(),
            entry.GetProperty("output").EnumerateArray().Select(v => v.GetSingle()).ToArray());
    }

    private void AddOnnx(string name, string fixture)
    {
        string version = Path.Combine(_models.Root, name, "1");
        Directory.CreateDirectory(version);
        File.Copy(Fixtures.OnnxProto(fixture), Path.Combine(version, ModelLoader.OnnxFile));
    }

    public Task InitializeAsync() => Server.InitializeAsync();

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        _models.Dispose();
    }
}
