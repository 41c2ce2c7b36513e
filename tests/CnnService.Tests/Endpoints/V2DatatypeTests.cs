using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;
using CnnService.Engine.Data;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

/// <summary>
/// The protocol's numeric datatypes all reach the model: integer types as raw pixels through the model's own
/// scale (here pixel / 255), float types as already normalised values, JSON or binary alike.
/// </summary>
public sealed class V2DatatypeTests(ShippedModelsService service) : IClassFixture<ShippedModelsService>
{
    private readonly HttpClient _client = service.Client;

    /// <summary>MNIST test digit 7's raw pixels, 0..255.</summary>
    private static float[] Pixels()
    {
        var pixels = new float[784];
        IdxDataset.Open(Fixtures.MnistSmall, DatasetSplit.Test).CopyPixels(7, pixels);
        return pixels;
    }

    private async Task<float[]> OutputAsync(HttpContent content)
    {
        using HttpResponseMessage response = await _client.PostAsync("/v2/models/mnist/versions/1/infer", content);
        return V2Wire.Data((await V2Wire.ReadAsync(response)).Json.GetProperty("outputs")[0]);
    }

    private static HttpContent BinaryInput(string datatype, byte[] data) => V2Wire.Binary(new JsonObject
    {
        ["inputs"] = new JsonArray(new JsonObject { ["name"] = "input", ["datatype"] = datatype, ["shape"] = new JsonArray(1, 1, 28, 28), ["parameters"] = new JsonObject { ["binary_data_size"] = data.Length } }),
    }, data);

    private static byte[] Encode(float[] values, int size, Action<Memory<byte>, float> write)
    {
        var raw = new byte[values.Length * size];
        for (int i = 0; i < values.Length; i++) write(raw.AsMemory(i * size, size), values[i]);
        return raw;
    }

    public static TheoryData<string> IntegerTypes => new() { "UINT8", "UINT16", "UINT32", "UINT64", "INT16", "INT32", "INT64" };

    [Theory]
    [MemberData(nameof(IntegerTypes))]
    public async Task Every_integer_datatype_of_the_same_pixels_gets_the_output_of_the_normalised_fp32_tensor(string datatype)
    {
        float[] pixels = Pixels();
        float[] normalised = pixels.Select(p => p * MnistSamples.Spec.Scale).ToArray();
        float[] expected = await OutputAsync(V2Wire.Json(V2Wire.Request(V2Wire.Input("FP32", [1, 1, 28, 28], V2Wire.Floats(normalised)))));
        int size = datatype switch { "UINT8" => 1, "UINT16" or "INT16" => 2, "UINT32" or "INT32" => 4, _ => 8 };
        byte[] raw = Encode(pixels, size, (b, v) =>
        {
            if (size == 1) b.Span[0] = (byte)v;
            else if (size == 2) BinaryPrimitives.WriteUInt16LittleEndian(b.Span, (ushort)v);
            else if (size == 4) BinaryPrimitives.WriteUInt32LittleEndian(b.Span, (uint)v);
            else BinaryPrimitives.WriteUInt64LittleEndian(b.Span, (ulong)v);
        });

        float[] binary = await OutputAsync(BinaryInput(datatype, raw));
        float[] json = await OutputAsync(V2Wire.Json(V2Wire.Request(V2Wire.Input(datatype, [1, 1, 28, 28], new JsonArray(pixels.Select(p => (JsonNode)(int)p).ToArray())))));

        Assert.Equal(expected, binary);
        Assert.Equal(expected, json);
    }

    [Fact]
    public async Task Fp64_and_fp16_are_converted_to_fp32_values()
    {
        float[] normalised = Pixels().Select(p => p * MnistSamples.Spec.Scale).ToArray();
        float[] halves = normalised.Select(v => (float)(Half)v).ToArray();
        float[] expected = await OutputAsync(V2Wire.Json(V2Wire.Request(V2Wire.Input("FP32", [1, 1, 28, 28], V2Wire.Floats(normalised)))));
        float[] expectedHalf = await OutputAsync(V2Wire.Json(V2Wire.Request(V2Wire.Input("FP32", [1, 1, 28, 28], V2Wire.Floats(halves)))));

        float[] fp64 = await OutputAsync(BinaryInput("FP64", Encode(normalised, 8, (b, v) => BinaryPrimitives.WriteDoubleLittleEndian(b.Span, v))));
        float[] fp16 = await OutputAsync(BinaryInput("FP16", Encode(normalised, 2, (b, v) => BinaryPrimitives.WriteHalfLittleEndian(b.Span, (Half)v))));

        Assert.Equal(expected, fp64);
        Assert.Equal(expectedHalf, fp16);
    }
}
