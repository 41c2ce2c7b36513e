using System.Text.Json;
using CnnService.Imaging;

namespace CnnService.LoadTool;

/// <summary>Where <c>cnn-load bodies</c> reads the image and writes the bodies.</summary>
internal sealed record RequestBodyOptions(string Image, string OutDirectory)
{
    public static RequestBodyOptions Parse(string[] args)
    {
        Dictionary<string, string?> o = CommandLine.Read(args, new HashSet<string> { "--image", "--out" }, new HashSet<string>());
        return new RequestBodyOptions(
            o.GetValueOrDefault("--image") ?? throw new UsageException("--image is required."),
            o.GetValueOrDefault("--out") ?? throw new UsageException("--out is required."));
    }
}

/// <summary>
/// <c>cnn-load bodies</c>: one image as the request bodies of the tensor front doors, all carrying the same pixels: its
/// 8-bit luminance (as the service's decoder reads it) as a 1 x 1 x H x W tensor, UINT8 raw and in v2 JSON, FP32 / 255
/// in v2 JSON, and the v2 binary tensor extension's body. The file names are fixed (see Program.cs).
/// </summary>
internal static class RequestBodies
{
    public const string RawFile = "tensor-uint8.raw";
    public const string Uint8JsonFile = "v2-uint8.json";
    public const string Fp32JsonFile = "v2-fp32.json";
    public const string BinaryFile = "v2-binary.bin";
    public const string BinaryHeaderLengthFile = "v2-binary.header-length";

    public static int Run(RequestBodyOptions options)
    {
        (byte[] pixels, int height, int width) = Luminance(File.ReadAllBytes(options.Image));
        long[] shape = [1, 1, height, width];
        Directory.CreateDirectory(options.OutDirectory);
        File.WriteAllBytes(Path.Combine(options.OutDirectory, RawFile), pixels);
        File.WriteAllBytes(Path.Combine(options.OutDirectory, Uint8JsonFile), JsonBody(pixels, shape, fp32: false));
        File.WriteAllBytes(Path.Combine(options.OutDirectory, Fp32JsonFile), JsonBody(pixels, shape, fp32: true));
        (byte[] binary, int headerLength) = BinaryBody(pixels, shape);
        File.WriteAllBytes(Path.Combine(options.OutDirectory, BinaryFile), binary);
        File.WriteAllText(Path.Combine(options.OutDirectory, BinaryHeaderLengthFile), headerLength + "\n");
        Console.Error.WriteLine($"cnn-load: {Path.GetFileName(options.Image)} ({width} x {height}) as UINT8/FP32 [1,1,{height},{width}] bodies in {options.OutDirectory}");
        return 0;
    }

    /// <summary>The image's pixels as 8-bit luminance, row after row.</summary>
    public static (byte[] Pixels, int Height, int Width) Luminance(byte[] encoded)
    {
        using DecodedImage image = ImageDecoder.Decode(encoded, ImageLimits.Default);
        var pixels = new byte[image.Width * image.Height];
        Imaging.Luminance.Of(image, pixels);
        return (pixels, image.Height, image.Width);
    }

    /// <summary>A v2 JSON request: the one input with flat data (UINT8 as is, or FP32 as pixel / 255), every output as JSON.</summary>
    public static byte[] JsonBody(byte[] pixels, long[] shape, bool fp32)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteStartArray("inputs");
            json.WriteStartObject();
            WriteTensorHead(json, fp32 ? "FP32" : "UINT8", shape);
            json.WriteStartArray("data");
            foreach (byte p in pixels)
            {
                if (fp32) json.WriteNumberValue(p / 255f);
                else json.WriteNumberValue(p);
            }

            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return stream.ToArray();
    }

    /// <summary>
    /// The binary tensor extension's body: a JSON header whose input declares its binary_data_size and whose output is
    /// asked for as binary, then the UINT8 pixels; the header's length goes in Inference-Header-Content-Length.
    /// </summary>
    public static (byte[] Body, int HeaderLength) BinaryBody(byte[] pixels, long[] shape)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteStartArray("inputs");
            json.WriteStartObject();
            WriteTensorHead(json, "UINT8", shape);
            json.WriteStartObject("parameters");
            json.WriteNumber("binary_data_size", pixels.Length);
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteStartArray("outputs");
            json.WriteStartObject();
            json.WriteString("name", "output");
            json.WriteStartObject("parameters");
            json.WriteBoolean("binary_data", true);
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }

        int headerLength = (int)stream.Length;
        stream.Write(pixels);
        return (stream.ToArray(), headerLength);
    }

    private static void WriteTensorHead(Utf8JsonWriter json, string datatype, long[] shape)
    {
        json.WriteString("name", "input");
        json.WriteString("datatype", datatype);
        json.WriteStartArray("shape");
        foreach (long d in shape) json.WriteNumberValue(d);
        json.WriteEndArray();
    }
}
