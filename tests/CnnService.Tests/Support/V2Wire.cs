using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CnnService.Tests.Support;

/// <summary>Open Inference Protocol v2 requests and responses as a client builds and reads them: JSON, and the binary tensor data extension.</summary>
internal static class V2Wire
{
    public const string HeaderLength = "Inference-Header-Content-Length";

    /// <summary>One input tensor, <c>{"name", "datatype", "shape", "data"}</c>.</summary>
    public static JsonObject Input(string datatype, long[] shape, JsonArray data, string name = "input") =>
        new() { ["name"] = name, ["datatype"] = datatype, ["shape"] = new JsonArray(shape.Select(d => (JsonNode)d).ToArray()), ["data"] = data };

    public static JsonArray Floats(ReadOnlySpan<float> values)
    {
        var array = new JsonArray();
        foreach (float v in values) array.Add(v);
        return array;
    }

    public static JsonArray Base64(params byte[][] images) => new(images.Select(i => (JsonNode)Convert.ToBase64String(i)).ToArray());

    public static StringContent Json(JsonObject request) => new(request.ToJsonString(), Encoding.UTF8, "application/json");

    public static JsonObject Request(params JsonObject[] inputs) => new() { ["inputs"] = new JsonArray(inputs) };

    /// <summary>The JSON header, then the binary tensors, with <c>Inference-Header-Content-Length</c>.</summary>
    public static ByteArrayContent Binary(JsonObject header, params byte[][] tensors)
    {
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        byte[] body = [.. json, .. tensors.SelectMany(t => t)];
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.Add(HeaderLength, json.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return content;
    }

    public static byte[] Bytes(ReadOnlySpan<float> values) => MemoryMarshal.AsBytes(values).ToArray();

    /// <summary>BYTES elements in binary form: each a 4-byte little-endian length, then the bytes.</summary>
    public static byte[] LengthPrefixed(params byte[][] elements) =>
        elements.SelectMany(e => BitConverter.GetBytes(e.Length).Concat(e)).ToArray();

    /// <summary>A 200 answer as its JSON (the header, for a binary answer) and the bytes after it.</summary>
    public static async Task<(JsonElement Json, byte[] Binary)> ReadAsync(HttpResponseMessage response)
    {
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.IsSuccessStatusCode, Encoding.UTF8.GetString(body));
        int length = response.Headers.TryGetValues(HeaderLength, out var values) ? int.Parse(values.Single()) : body.Length;
        return (JsonDocument.Parse(body.AsMemory(0, length)).RootElement.Clone(), body[length..]);
    }

    public static float[] Data(JsonElement output) => output.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();

    /// <summary>The <c>"error"</c> of a refusal, after checking its status and that it is the protocol's JSON, not a problem document.</summary>
    public static async Task<string> ErrorAsync(HttpResponseMessage response, System.Net.HttpStatusCode status)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        JsonElement body = JsonDocument.Parse(text).RootElement;
        Assert.Equal(["error"], body.EnumerateObject().Select(p => p.Name));
        return body.GetProperty("error").GetString()!;
    }
}
