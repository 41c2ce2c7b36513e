using System.Security.Cryptography;
using System.Text.Json;

namespace CnnService.Engine.Tests.Support;

/// <summary>One exported net of <c>data/onnx/manifest.json</c> (see scripts/make-onnx-models.py).</summary>
internal sealed record OnnxModelEntry
{
    /// <summary>The path without ".onnx", e.g. "torchvision/resnet18-opset13": the test case's name.</summary>
    public required string Id { get; init; }
    public required string Name { get; init; }
    /// <summary>"seeds" (the nets of Architectures.cs) or "torchvision".</summary>
    public required string Family { get; init; }
    /// <summary>Relative to the manifest's folder.</summary>
    public required string Path { get; init; }
    public required int Opset { get; init; }
    /// <summary>False for the unfused variants: no constant folding, standalone BatchNormalization nodes.</summary>
    public required bool Fused { get; init; }
    /// <summary>[C, H, W]; the batch axis is dynamic.</summary>
    public required int[] Input { get; init; }
    /// <summary>Values per image in the output.</summary>
    public required int Outputs { get; init; }
    public required string[] OpTypes { get; init; }
    /// <summary>PyTorch's output for <see cref="OnnxModels.ProbeImage"/> at batch 1.</summary>
    public required float[] TorchOutput { get; init; }

    /// <summary>The absolute path of the .onnx file.</summary>
    public string FullPath => System.IO.Path.Combine(OnnxModels.Folder, Path);

    public int InputSize => Input[0] * Input[1] * Input[2];

    public int[] BatchShape(int batch) => [batch, Input[0], Input[1], Input[2]];
}

/// <summary>
/// The ONNX exports scripts/make-onnx-models.sh writes to the checkout's git-ignored <c>data/onnx/</c>, found by
/// walking up from the test assembly to the repository root as <see cref="Fixtures"/> does. Missing or made by an
/// older version of the script, the tests that use them (<see cref="OnnxModelTheoryAttribute"/>) are skipped,
/// unless <c>CNN_REQUIRE_ONNX_MODELS=1</c> (set by .ci/run, which makes them): then they fail, saying why.
/// </summary>
internal static class OnnxModels
{
    public const string RequireVariable = "CNN_REQUIRE_ONNX_MODELS";
    private const string Script = "scripts/make-onnx-models.sh";

    private static readonly Lazy<(IReadOnlyList<OnnxModelEntry> Models, string? Missing)> Loaded = new(Load);

    /// <summary>The repository's <c>data/onnx</c> folder (it may not exist).</summary>
    public static string Folder => Path.GetFullPath(Path.Combine(Fixtures.Root, "..", "..", "data", "onnx"));

    /// <summary>Why the models cannot be used (missing, stale or unreadable), or null when they can.</summary>
    public static string? Missing => Loaded.Value.Missing;

    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    /// <summary>Every manifest entry; throws, saying why, when <see cref="Missing"/> is set.</summary>
    public static IReadOnlyList<OnnxModelEntry> All =>
        Missing is null ? Loaded.Value.Models : throw new InvalidOperationException(Missing);

    /// <summary>
    /// The test cases: every entry's id. When the models are missing it holds one case named for the reason,
    /// so that with <see cref="RequireVariable"/> set the theory runs and <see cref="Get"/> fails with that reason
    /// (an empty theory would fail with only "no data").
    /// </summary>
    public static TheoryData<string> Ids
    {
        get
        {
            var data = new TheoryData<string>();
            if (Missing is not null) data.Add(Missing);
            else foreach (OnnxModelEntry entry in Loaded.Value.Models) data.Add(entry.Id);
            return data;
        }
    }

    public static OnnxModelEntry Get(string id) =>
        All.FirstOrDefault(e => e.Id == id) ?? throw new ArgumentException($"no model \"{id}\" in {Folder}/manifest.json", nameof(id));

    /// <summary>
    /// The image make-onnx-models.py gave torch for <see cref="OnnxModelEntry.TorchOutput"/>, computed rather than
    /// stored: x[i] = frac(i * 2654435761 / 2^32) * 2 - 1 over the flat C*H*W index, in double, then float.
    /// </summary>
    public static float[] ProbeImage(int size)
    {
        var image = new float[size];
        for (int i = 0; i < size; i++) image[i] = (float)(unchecked((uint)i * 2654435761u) / 4294967296.0 * 2.0 - 1.0);
        return image;
    }

    /// <summary>
    /// <paramref name="count"/> image-like inputs of [C, H, W]: uniform values in [-1, 1] on a coarse grid (a
    /// cell per 8 pixels), bilinearly upsampled, as make-onnx-models.py's smooth_images calibrates BatchNorm with.
    /// Photographs are smooth like this; per-pixel noise is not, and on it EfficientNet-B0's random-weight logits
    /// reach 1e4 and PyTorch's own float32 output is up to 2e-3 from its float64 one (1-3e-5 here), so no two
    /// float32 runtimes could be held to each other on noise.
    /// </summary>
    public static float[] SmoothImages(int count, int[] chw, int seed)
    {
        int c = chw[0], h = chw[1], w = chw[2], gh = Math.Max(2, h / 8), gw = Math.Max(2, w / 8);
        float[] grid = TestModels.Random(count * c * gh * gw, seed);
        var images = new float[count * c * h * w];
        for (int plane = 0; plane < count * c; plane++)
            for (int y = 0; y < h; y++)
            {
                // Align-corners sampling of the grid: output row y sits at grid row y * (gh - 1) / (h - 1).
                double gy = h == 1 ? 0 : y * (gh - 1.0) / (h - 1);
                int y0 = Math.Min((int)gy, gh - 2);
                double fy = gy - y0;
                for (int x = 0; x < w; x++)
                {
                    double gx = w == 1 ? 0 : x * (gw - 1.0) / (w - 1);
                    int x0 = Math.Min((int)gx, gw - 2);
                    double fx = gx - x0;
                    int g = (plane * gh + y0) * gw + x0;
                    double top = grid[g] * (1 - fx) + grid[g + 1] * fx, bottom = grid[g + gw] * (1 - fx) + grid[g + gw + 1] * fx;
                    images[((long)plane * h + y) * w + x] = (float)(top * (1 - fy) + bottom * fy);
                }
            }

        return images;
    }

    private static (IReadOnlyList<OnnxModelEntry>, string?) Load()
    {
        string manifest = Path.Combine(Folder, "manifest.json");
        if (!File.Exists(manifest))
            return ([], $"no {manifest}: run {Script} (one to three minutes) to make the ONNX models; CI sets {RequireVariable}=1");
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(manifest));
            JsonElement root = json.RootElement;
            string current = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(Folder, "..", "..", "scripts", "make-onnx-models.py"))));
            if (root.GetProperty("scriptSha256").GetString() != current)
                return ([], $"{manifest} was made by another version of scripts/make-onnx-models.py: run {Script} again");
            if (root.GetProperty("failures").GetArrayLength() > 0)
                return ([], $"{manifest} lists failed exports ({root.GetProperty("failures")}): run {Script} and read its output");
            var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
            var models = root.GetProperty("models").Deserialize<List<OnnxModelEntry>>(options)!;
            string? absent = models.Select(m => m.FullPath).FirstOrDefault(p => !File.Exists(p));
            return absent is null ? (models, null) : ([], $"{absent} is listed in {manifest} but missing: run {Script} again");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IOException)
        {
            return ([], $"{manifest} is unreadable ({e.Message}): run {Script} again");
        }
    }
}

/// <summary>
/// A theory over the ONNX models (<c>[MemberData(nameof(OnnxModels.Ids), MemberType = typeof(OnnxModels))]</c>):
/// skipped when they are missing, unless <c>CNN_REQUIRE_ONNX_MODELS=1</c>, in which case it runs and fails.
/// </summary>
public sealed class OnnxModelTheoryAttribute : TheoryAttribute
{
    public OnnxModelTheoryAttribute()
    {
        if (OnnxModels.Missing is { } missing && !OnnxModels.Required) Skip = missing;
    }
}

/// <summary>A fact about the ONNX models, skipped or failing as <see cref="OnnxModelTheoryAttribute"/>.</summary>
public sealed class OnnxModelFactAttribute : FactAttribute
{
    public OnnxModelFactAttribute()
    {
        if (OnnxModels.Missing is { } missing && !OnnxModels.Required) Skip = missing;
    }
}
