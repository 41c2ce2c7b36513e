using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace CnnService.Cli;

/// <summary>A .npy file is not something <c>cnn</c> can read. The message names the file.</summary>
internal sealed class NpyFormatException(string message) : Exception(message);

/// <summary>The parsed header of a .npy file: a little-endian float32 C-order array of <see cref="Shape"/>.</summary>
internal sealed record NpyHeader(int MajorVersion, long[] Shape, long DataOffset)
{
    public long Count => Shape.Aggregate(1L, (a, d) => a * d);

    public string ShapeText => NpyReader.FormatShape(Shape);
}

/// <summary>A whole .npy array in memory.</summary>
internal sealed record NpyArray(long[] Shape, float[] Data);

/// <summary>
/// Reads NumPy .npy files (format versions 1.0, 2.0 and 3.0): the magic <c>\x93NUMPY</c>, a
/// version, a little-endian header length, then a Python dict literal with exactly the keys
/// 'descr', 'fortran_order' and 'shape', then the raw data. Only little-endian float32
/// (<c>'&lt;f4'</c>) in C order is accepted, and the data must be exactly as long as the shape
/// says. Sizes are checked against the file before anything is allocated, so a hostile header
/// cannot make the reader allocate more than the file holds.
/// </summary>
internal static class NpyReader
{
    public static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>A header is a few dozen bytes; NumPy itself refuses more than 10,000 by default.</summary>
    public const int MaxHeaderBytes = 64 * 1024;

    /// <summary>NumPy allows at most 64 dimensions.</summary>
    public const int MaxDimensions = 64;

    public const string Float32 = "<f4";

    /// <summary>Reads a whole file (tests and small inputs); <see cref="Open"/> streams instead.</summary>
    public static NpyArray Read(string path)
    {
        using NpyFile file = Open(path);
        if (file.Header.Count > Array.MaxLength)
            throw new NpyFormatException($"{path}: {file.Header.Count:N0} values are more than one array can hold");
        var data = new float[file.Header.Count];
        file.ReadFloats(data);
        return new NpyArray(file.Header.Shape, data);
    }

    /// <summary>Opens a file and validates its header and length; the returned file reads the data in pieces.</summary>
    public static NpyFile Open(string path)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new NpyFormatException($"{path}: cannot open: {Reason(e)}");
        }

        try
        {
            NpyHeader header = ReadHeader(stream, path);
            return new NpyFile(path, stream, header);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Parses and validates the header of a seekable stream positioned at the start of the file,
    /// leaving it at the start of the data. <paramref name="name"/> prefixes every message.
    /// </summary>
    public static NpyHeader ReadHeader(Stream stream, string name)
    {
        long length = stream.Length;
        Span<byte> prefix = stackalloc byte[12];
        int got = ReadUpTo(stream, prefix[..10], name);
        if (got == 0) throw Error(name, "not a NumPy .npy file: the file is empty");
        if (got < 6 || !prefix[..6].SequenceEqual(Magic))
        {
            string hint = got >= 2 && prefix[0] == (byte)'P' && prefix[1] == (byte)'K'
                ? " (this looks like a .npz archive; save each array with np.save)"
                : "";
            throw Error(name, $"not a NumPy .npy file: it does not start with the magic \\x93NUMPY{hint}");
        }

        if (got < 8) throw Error(name, "truncated: the file ends inside the .npy header");
        int major = prefix[6], minor = prefix[7];
        if (major is < 1 or > 3 || minor != 0)
            throw Error(name, $"unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0, 3.0)");
        int lengthBytes = major == 1 ? 2 : 4;
        if (got < 10 || (lengthBytes == 4 && ReadUpTo(stream, prefix[10..12], name) < 2))
            throw Error(name, "truncated: the file ends inside the .npy header");

        long headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
        long dataOffset = 8 + lengthBytes + headerLength;
        if (headerLength > MaxHeaderBytes)
            throw Error(name, $"the .npy header claims {headerLength:N0} bytes; more than {MaxHeaderBytes:N0} is not a plausible header");
        if (dataOffset > length)
            throw Error(name, $"truncated: the header claims {headerLength:N0} bytes but the file has only {length - 8 - lengthBytes:N0} after the preamble");

        var headerBytes = new byte[headerLength];
        if (ReadUpTo(stream, headerBytes, name) != headerBytes.Length)
            throw Error(name, "truncated: the file ends inside the .npy header");
        string text = major == 3 ? Encoding.UTF8.GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);

        long[] shape = ParseHeader(text, name);
        long count = 1;
        foreach (long d in shape)
        {
            if (d != 0 && count > long.MaxValue / 4 / d)
                throw Error(name, $"shape {FormatShape(shape)} is absurdly large");
            count *= d;
        }

        long need = count * sizeof(float), have = length - dataOffset;
        if (have < need)
            throw Error(name, $"truncated: shape {FormatShape(shape)} needs {need:N0} bytes of float32 data, the file has {have:N0}");
        if (have > need)
            throw Error(name, $"size mismatch: shape {FormatShape(shape)} needs {need:N0} bytes of float32 data, the file has {have:N0}");
        return new NpyHeader(major, shape, dataOffset);
    }

    public static string FormatShape(IReadOnlyList<long> shape) =>
        shape.Count == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";

    /// <summary>Checks the header dict and returns its shape.</summary>
    private static long[] ParseHeader(string text, string name)
    {
        Dictionary<string, object> dict;
        try
        {
            dict = new PyLiteralParser(text).ParseHeaderDict();
        }
        catch (FormatException e)
        {
            throw Error(name, $"malformed .npy header: {e.Message}");
        }

        foreach (string key in new[] { "descr", "fortran_order", "shape" })
        {
            if (!dict.ContainsKey(key)) throw Error(name, $"malformed .npy header: no '{key}' key");
        }

        string? extra = dict.Keys.FirstOrDefault(k => k is not ("descr" or "fortran_order" or "shape"));
        if (extra is not null) throw Error(name, $"malformed .npy header: unexpected key '{extra}'");

        if (dict["descr"] is not string descr)
            throw Error(name, "unsupported dtype: structured arrays are not supported; expected float32 ('<f4')");
        if (descr != Float32) throw Error(name, DescribeDtype(descr));

        if (dict["fortran_order"] is not bool fortran) throw Error(name, "malformed .npy header: 'fortran_order' must be True or False");
        if (fortran)
            throw Error(name, "Fortran-order (column-major) arrays are not supported; save a C-order array (np.ascontiguousarray)");

        if (dict["shape"] is not long[] shape) throw Error(name, "malformed .npy header: 'shape' must be a tuple of integers");
        if (shape.Length > MaxDimensions) throw Error(name, $"shape has {shape.Length} dimensions; at most {MaxDimensions} are allowed");
        if (shape.Any(d => d < 0)) throw Error(name, $"shape {FormatShape(shape)} has a negative dimension");
        return shape;
    }

    private static string DescribeDtype(string descr)
    {
        string fix = "save float32 in little-endian order, e.g. np.save(f, x.astype('<f4'))";
        if (descr.Length >= 2 && descr[1..] == "f4")
            return descr[0] == '>' ? $"big-endian float32 ('{descr}') is not supported; {fix}" : $"dtype '{descr}' is not supported; {fix}";
        return $"dtype '{descr}' is not supported (only float32 '<f4' is); {fix}";
    }

    private static int ReadUpTo(Stream stream, Span<byte> buffer, string name)
    {
        try
        {
            return stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }
        catch (IOException e)
        {
            throw Error(name, $"cannot read: {e.Message}");
        }
    }

    internal static string Reason(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => "no such file",
        UnauthorizedAccessException => "permission denied",
        _ => e.Message,
    };

    private static NpyFormatException Error(string name, string message) => new($"{name}: {message}");

    /// <summary>The few Python literals a .npy header holds: a dict of str keys to str, bool, int, tuple of ints (and lists, for structured dtypes).</summary>
    private ref struct PyLiteralParser(string text)
    {
        private readonly string _text = text;
        private int _pos;

        public Dictionary<string, object> ParseHeaderDict()
        {
            SkipSpace();
            Expect('{');
            var dict = new Dictionary<string, object>(StringComparer.Ordinal);
            while (true)
            {
                SkipSpace();
                if (Peek() == '}') { _pos++; break; }
                string key = ParseString();
                SkipSpace();
                Expect(':');
                object value = ParseValue();
                if (!dict.TryAdd(key, value)) throw new FormatException($"key '{key}' appears twice");
                SkipSpace();
                char c = Next();
                if (c == '}') break;
                if (c != ',') throw new FormatException($"expected ',' or '}}' at offset {_pos - 1}");
            }

            SkipSpace();
            if (_pos != _text.Length) throw new FormatException($"unexpected text after the dict at offset {_pos}");
            return dict;
        }

        private object ParseValue()
        {
            SkipSpace();
            char c = Peek();
            if (c is '\'' or '"') return ParseString();
            if (c == '(') return ParseTuple();
            if (c == '[') { SkipBracketed(); return new object(); }
            if (char.IsAsciiDigit(c) || c == '-') return ParseInt();
            string word = ParseWord();
            return word switch
            {
                "True" => true,
                "False" => false,
                _ => throw new FormatException($"unexpected value '{word}'"),
            };
        }

        private long[] ParseTuple()
        {
            Expect('(');
            var items = new List<long>();
            while (true)
            {
                SkipSpace();
                if (Peek() == ')') { _pos++; break; }
                items.Add(ParseInt());
                SkipSpace();
                char c = Next();
                if (c == ')') break;
                if (c != ',') throw new FormatException($"expected ',' or ')' in the shape at offset {_pos - 1}");
            }

            return items.ToArray();
        }

        private long ParseInt()
        {
            SkipSpace();
            int start = _pos;
            if (Peek() == '-') _pos++;
            while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos])) _pos++;
            string digits = _text[start.._pos];
            if (_pos < _text.Length && _text[_pos] == 'L') _pos++; // Python 2 longs
            if (!long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
                throw new FormatException(digits.Length == 0 ? $"expected an integer at offset {start}" : $"integer '{digits}' is out of range");
            return value;
        }

        private string ParseString()
        {
            char quote = Next();
            if (quote is not ('\'' or '"')) throw new FormatException($"expected a quoted string at offset {_pos - 1}");
            var sb = new StringBuilder();
            while (true)
            {
                if (_pos >= _text.Length) throw new FormatException("unterminated string");
                char c = _text[_pos++];
                if (c == quote) return sb.ToString();
                if (c == '\\' && _pos < _text.Length) c = _text[_pos++];
                sb.Append(c);
            }
        }

        private string ParseWord()
        {
            int start = _pos;
            while (_pos < _text.Length && char.IsAsciiLetter(_text[_pos])) _pos++;
            if (start == _pos) throw new FormatException($"unexpected character '{Peek()}' at offset {_pos}");
            return _text[start.._pos];
        }

        private void SkipBracketed()
        {
            int depth = 0;
            do
            {
                char c = Next();
                if (c is '[' or '(') depth++;
                else if (c is ']' or ')') depth--;
                else if (c is '\'' or '"') { _pos--; ParseString(); }
            }
            while (depth > 0);
        }

        private void SkipSpace()
        {
            while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos])) _pos++;
        }

        private readonly char Peek() => _pos < _text.Length ? _text[_pos] : throw new FormatException("the header ends early");

        private char Next()
        {
            char c = Peek();
            _pos++;
            return c;
        }

        private void Expect(char expected)
        {
            char c = Next();
            if (c != expected) throw new FormatException($"expected '{expected}' at offset {_pos - 1}, found '{c}'");
        }
    }
}

/// <summary>An open, validated .npy file whose float32 data are read in order, a piece at a time.</summary>
internal sealed class NpyFile(string name, Stream stream, NpyHeader header) : IDisposable
{
    public string Name { get; } = name;
    public NpyHeader Header { get; } = header;

    /// <summary>Reads the next <c>destination.Length</c> values.</summary>
    public void ReadFloats(Span<float> destination)
    {
        Span<byte> bytes = MemoryMarshal.AsBytes(destination);
        try
        {
            stream.ReadExactly(bytes);
        }
        catch (EndOfStreamException)
        {
            throw new NpyFormatException($"{Name}: truncated: the file ended while reading its data");
        }
        catch (IOException e)
        {
            throw new NpyFormatException($"{Name}: cannot read: {e.Message}");
        }

        if (!BitConverter.IsLittleEndian)
        {
            Span<int> ints = MemoryMarshal.Cast<float, int>(destination);
            BinaryPrimitives.ReverseEndianness(ints, ints);
        }
    }

    public void Dispose() => stream.Dispose();
}
