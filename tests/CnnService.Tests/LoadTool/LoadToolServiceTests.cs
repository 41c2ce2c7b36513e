extern alias LoadTool;
using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text.Json;
using CnnService.Tests.Support;
using LoadTool::CnnService.LoadTool;

namespace CnnService.Tests.LoadTool;

/// <summary>
/// What scripts/bench-protocols.sh sends, against the real service: the bodies cnn-load writes from the mnist sample
/// digit-7.png, and cnn-load's gRPC runs, are answered, and answered alike. Nothing here looks at how fast.
/// </summary>
public sealed class LoadToolServiceTests(GrpcServer server) : IClassFixture<GrpcServer>, IDisposable
{
    private const int Digit = 7;
    private static readonly string Sample = Path.Combine(Fixtures.Models, "mnist", "samples", "digit-7.png");
    private readonly TempFolder _bodies = new();

    public void Dispose() => _bodies.Dispose();

    private string Body(string name)
    {
        if (!System.IO.File.Exists(_bodies.Combine(RequestBodies.RawFile))) RequestBodies.Run(new RequestBodyOptions(Sample, _bodies.Root));
        return _bodies.Combine(name);
    }

    private async Task<(JsonElement Json, byte[] Binary)> InferAsync(HttpContent content)
    {
        using HttpResponseMessage response = await server.Http.PostAsync("/v2/models/mnist/infer", content);
        return await V2Wire.ReadAsync(response);
    }

    private static ByteArrayContent Content(string path, string contentType)
    {
        var content = new ByteArrayContent(System.IO.File.ReadAllBytes(path));
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return content;
    }

    private static int ArgMax(ReadOnlySpan<float> scores)
    {
        int top = 0;
        for (int i = 1; i < scores.Length; i++) if (scores[i] > scores[top]) top = i;
        return top;
    }

    private GrpcLoadOptions Options(params string[] extra) =>
        GrpcLoadOptions.Parse(["--target", $"127.0.0.1:{server.GrpcAddress.Port}", "--raw", Body(RequestBodies.RawFile), "--warmup", "0s", .. extra]);

    [Fact]
    public void The_raw_tensor_is_the_images_28_by_28_pixels()
    {
        byte[] raw = System.IO.File.ReadAllBytes(Body(RequestBodies.RawFile));

        Assert.Equal(28 * 28, raw.Length);
        Assert.Contains(raw, p => p > 200);   // the stroke: MNIST digits are light on dark
        Assert.Equal(0, raw[0]);
    }

    [Fact]
    public async Task The_uint8_json_body_is_answered_with_the_digits_class()
    {
        (JsonElement json, _) = await InferAsync(Content(Body(RequestBodies.Uint8JsonFile), "application/json"));

        JsonElement output = Assert.Single(json.GetProperty("outputs").EnumerateArray());
        Assert.Equal(Digit, ArgMax(V2Wire.Data(output)));
    }

    [Fact]
    public async Task The_fp32_json_body_is_answered_as_the_uint8_one()
    {
        (JsonElement uint8, _) = await InferAsync(Content(Body(RequestBodies.Uint8JsonFile), "application/json"));
        (JsonElement fp32, _) = await InferAsync(Content(Body(RequestBodies.Fp32JsonFile), "application/json"));

        float[] expected = V2Wire.Data(uint8.GetProperty("outputs")[0]);
        float[] actual = V2Wire.Data(fp32.GetProperty("outputs")[0]);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-5f);
    }

    [Fact]
    public async Task The_binary_body_is_answered_with_binary_scores_equal_to_the_json_answer()
    {
        (JsonElement json, _) = await InferAsync(Content(Body(RequestBodies.Uint8JsonFile), "application/json"));
        ByteArrayContent binary = Content(Body(RequestBodies.BinaryFile), "application/octet-stream");
        binary.Headers.Add(V2Wire.HeaderLength, System.IO.File.ReadAllText(Body(RequestBodies.BinaryHeaderLengthFile)).Trim());

        (JsonElement header, byte[] tail) = await InferAsync(binary);

        JsonElement output = Assert.Single(header.GetProperty("outputs").EnumerateArray());
        Assert.Equal(40, output.GetProperty("parameters").GetProperty("binary_data_size").GetInt32());
        Assert.Equal(V2Wire.Data(json.GetProperty("outputs")[0]), MemoryMarshal.Cast<byte, float>(tail).ToArray());
    }

    [Fact]
    public async Task A_counted_grpc_run_answers_every_call_ok_over_its_connections()
    {
        var log = new StringWriter(CultureInfo.InvariantCulture);

        GrpcLoadResult result = await GrpcLoadCommand.MeasureAsync(
            Options("--requests", "40", "--connections", "2", "--concurrency", "4"), System.IO.File.ReadAllBytes(Body(RequestBodies.RawFile)), log);

        Assert.Null(result.ProbeFailure);
        Assert.Null(result.FirstError);
        LoadSummary summary = Assert.IsType<LoadSummary>(result.Summary);
        Assert.Equal(40, summary.Calls);
        Assert.Equal(40, summary.Ok);
        Assert.Equal(0, summary.UnrecordedLatencies);
        Assert.Contains($"top class {Digit}", log.ToString());
    }

    [Fact]
    public async Task A_request_the_service_refuses_fails_the_probe_with_its_status_and_measures_nothing()
    {
        GrpcLoadResult result = await GrpcLoadCommand.MeasureAsync(
            Options("--requests", "10", "--model", "no-such-model"), System.IO.File.ReadAllBytes(Body(RequestBodies.RawFile)), TextWriter.Null);

        Assert.Null(result.Summary);
        Assert.StartsWith("NotFound", result.ProbeFailure);
    }

    [Fact]
    public async Task The_json_summary_reports_the_calls_by_status()
    {
        GrpcLoadOptions options = Options("--requests", "5", "--connections", "1", "--json");
        GrpcLoadResult result = await GrpcLoadCommand.MeasureAsync(options, System.IO.File.ReadAllBytes(Body(RequestBodies.RawFile)), TextWriter.Null);

        using JsonDocument json = JsonDocument.Parse(result.Summary!.ToJson(options));
        Assert.Equal(5, json.RootElement.GetProperty("count").GetInt64());
        Assert.Equal(0, json.RootElement.GetProperty("errors").GetInt64());
        Assert.Equal(5, json.RootElement.GetProperty("status").GetProperty("OK").GetInt64());
        Assert.Equal(1, json.RootElement.GetProperty("warmup_count").GetInt64());
    }
}
