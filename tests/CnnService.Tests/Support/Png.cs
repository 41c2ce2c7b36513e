using SkiaSharp;

namespace CnnService.Tests.Support;

/// <summary>Reads a PNG the service drew, to check its signature, size and pixels.</summary>
public sealed class Png : IDisposable
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private readonly SKBitmap _bitmap;

    public Png(byte[] bytes)
    {
        Assert.True(bytes.AsSpan().StartsWith(Signature), "not a PNG: the signature is missing");
        _bitmap = SKBitmap.Decode(bytes) ?? throw new Xunit.Sdk.XunitException("the PNG does not decode");
    }

    public static Png FromBase64(string text) => new(Convert.FromBase64String(text));

    public int Width => _bitmap.Width;
    public int Height => _bitmap.Height;

    public (byte R, byte G, byte B) At(int x, int y)
    {
        SKColor c = _bitmap.GetPixel(x, y);
        return (c.Red, c.Green, c.Blue);
    }

    public void Dispose() => _bitmap.Dispose();
}
