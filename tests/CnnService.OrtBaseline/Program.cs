// The minimal image classifier a .NET developer would write in an afternoon instead of adopting
// CnnService: one ONNX Runtime session (thread-safe, shared by all requests), SkiaSharp to decode,
// System.Text.Json to answer, logging at Warning. One Run per request, no batching, no queue.
// scripts/bench-serving.sh measures CnnService against it with the same network.
//
//   dotnet CnnService.OrtBaseline.dll --urls http://127.0.0.1:5000 --Model:Path=model.onnx
//   curl --data-binary @digit-7.png -H 'Content-Type: image/png' http://127.0.0.1:5000/predict
using Microsoft.ML.OnnxRuntime;
using SkiaSharp;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);

IConfigurationSection model = builder.Configuration.GetSection("Model");
string modelPath = model["Path"] ?? throw new InvalidOperationException("set Model:Path to the .onnx file");
float scale = model.GetValue("Scale", 1f / 255), mean = model.GetValue("Mean", 0f), std = model.GetValue("Std", 1f);
int threads = model.GetValue("IntraOpThreads", 0);

using var options = new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = threads > 0 ? threads : Environment.ProcessorCount };
using var session = new InferenceSession(modelPath, options);
string inputName = session.InputNames[0], outputName = session.OutputNames[0];
// NCHW with a batch of one; the image is decoded to the model's height and width.
int[] dims = session.InputMetadata[inputName].Dimensions;
int height = dims[2], width = dims[3];
long[] shape = [1, 1, height, width];
using var runOptions = new RunOptions();

var app = builder.Build();
app.MapGet("/health", () => Results.Ok());
app.MapPost("/predict", async (HttpRequest request) =>
{
    if (request.ContentType?.StartsWith("image/", StringComparison.OrdinalIgnoreCase) != true)
        return Results.StatusCode(StatusCodes.Status415UnsupportedMediaType);

    using var body = new MemoryStream();
    await request.Body.CopyToAsync(body);
    float[]? input = ToInput(body.ToArray());
    if (input is null) return Results.BadRequest(new { error = "not an image" });

    using OrtValue tensor = OrtValue.CreateTensorValueFromMemory(input, shape);
    using var outputs = session.Run(runOptions, [inputName], [tensor], [outputName]);
    float[] probabilities = outputs[0].GetTensorDataAsSpan<float>().ToArray();
    int label = 0;
    for (int i = 1; i < probabilities.Length; i++) if (probabilities[i] > probabilities[label]) label = i;
    return Results.Ok(new Prediction(label.ToString(), probabilities));
});
app.Run();

// Grayscale at the model's height and width (Skia converts and resizes in one step), then (pixel * scale - mean) / std.
float[]? ToInput(byte[] encoded)
{
    using SKBitmap? decoded = SKBitmap.Decode(encoded);
    if (decoded is null) return null;
    using SKBitmap? gray = decoded.Resize(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
    if (gray is null) return null;
    ReadOnlySpan<byte> pixels = gray.GetPixelSpan();
    var input = new float[width * height];
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
            input[y * width + x] = (pixels[y * gray.RowBytes + x] * scale - mean) / std;
    return input;
}

record Prediction(string Label, float[] Probabilities);
