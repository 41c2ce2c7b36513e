using System.Buffers.Binary;
using CnnService.Cli;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Cli;

public class NpyReaderTests : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void A_written_file_reads_back_at_every_format_version(int version)
    {
        float[] data = [1.5f, -2f, 3.25f, float.Epsilon, 6f, 7f];
        string path = Write("v.npy", NpyWriter.Header([2, 3], majorVersion: version), Bytes(data));

        NpyArray array = NpyReader.Read(path);

        Assert.Equal([2L, 3L], array.Shape);
        Assert.Equal(data, array.Data);
    }

    [Fact]
    public void The_writer_aligns_the_data_to_64_bytes_as_numpy_does()
    {
        var stream = new MemoryStream();
        NpyWriter.Write(stream, new float[4], 4);
        byte[] bytes = stream.ToArray();

        const string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }";
        Assert.Equal(128 + 16, bytes.Length);
        Assert.Equal(128 - 10, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)));
        Assert.Equal(dict, System.Text.Encoding.Latin1.GetString(bytes, 10, dict.Length));
        Assert.Equal((byte)'\n', bytes[127]);
    }

    [Theory]
    [InlineData("{\"descr\":\"<f4\",\"fortran_order\":False,\"shape\":(1,28,28)}")] // double quotes, no spaces, no trailing comma
    [InlineData("{'shape': (1L, 28L, 28L), 'fortran_order': False, 'descr': '<f4'}")] // key order, Python 2 longs
    public void Headers_written_by_other_tools_parse(string dict)
    {
        string path = Write("other.npy", NpyWriter.Header(dict), new byte[28 * 28 * 4]);

        Assert.Equal([1L, 28L, 28L], NpyReader.Read(path).Shape);
    }

    [Fact]
    public void A_zero_dimensional_array_is_one_value()
    {
        string path = Write("scalar.npy", NpyWriter.Header([]), Bytes([42f]));

        NpyArray array = NpyReader.Read(path);
        Assert.Empty(array.Shape);
        Assert.Equal([42f], array.Data);
    }

    [Fact]
    public void Bad_magic_is_not_a_npy_file() =>
        AssertRejected(Write("bad.npy", "\u0093NUMPX"u8.ToArray(), new byte[64]), "not a NumPy .npy file: it does not start with the magic \\x93NUMPY");

    [Fact]
    public void A_zip_archive_hints_at_npz() =>
        AssertRejected(Write("arrays.npy", "PK\u0003\u0004"u8.ToArray(), new byte[64]), "this looks like a .npz archive");

    [Fact]
    public void An_empty_file_is_not_a_npy_file() =>
        AssertRejected(Write("empty.npy", [], []), "not a NumPy .npy file: the file is empty");

    [Fact]
    public void Fortran_order_is_rejected() =>
        AssertRejected(Write("f.npy", NpyWriter.Header([1, 28, 28], fortranOrder: true), new byte[28 * 28 * 4]),
            "Fortran-order (column-major) arrays are not supported; save a C-order array (np.ascontiguousarray)");

    [Theory]
    [InlineData("<f8", "dtype '<f8' is not supported (only float32 '<f4' is)")]
    [InlineData("<i4", "dtype '<i4' is not supported (only float32 '<f4' is)")]
    [InlineData("|u1", "dtype '|u1' is not supported (only float32 '<f4' is)")]
    [InlineData("|f4", "dtype '|f4' is not supported; save float32 in little-endian order")]
    [InlineData(">f4", "big-endian float32 ('>f4') is not supported; save float32 in little-endian order, e.g. np.save(f, x.astype('<f4'))")]
    public void Other_dtypes_are_rejected_naming_the_dtype(string descr, string message) =>
        AssertRejected(Write("d.npy", NpyWriter.Header([1, 28, 28], descr), new byte[28 * 28 * 4]), message);

    [Fact]
    public void A_structured_dtype_is_rejected() =>
        AssertRejected(Write("s.npy", NpyWriter.Header("{'descr': [('x', '<f4'), ('y', '<f4')], 'fortran_order': False, 'shape': (2,), }"), new byte[16]),
            "structured arrays are not supported");

    [Fact]
    public void Truncated_data_is_rejected_with_both_sizes() =>
        AssertRejected(Write("t.npy", NpyWriter.Header([2, 1, 28, 28]), new byte[28 * 28 * 4 + 3]),
            "truncated: shape (2, 1, 28, 28) needs 6,272 bytes of float32 data, the file has 3,139");

    [Fact]
    public void Trailing_bytes_after_the_data_are_a_size_mismatch() =>
        AssertRejected(Write("long.npy", NpyWriter.Header([2]), new byte[12]), "size mismatch: shape (2,) needs 8 bytes of float32 data, the file has 12");

    [Fact]
    public void A_header_longer_than_the_file_is_truncated()
    {
        byte[] header = NpyWriter.Header([1]);
        AssertRejected(Write("h.npy", header[..40]), "truncated: the header claims 118 bytes but the file has only 30 after the preamble");
    }

    [Fact]
    public void An_absurd_shape_is_rejected_before_anything_is_allocated() =>
        AssertRejected(Write("huge.npy", NpyWriter.Header([1L << 40, 1L << 40, 28, 28]), new byte[16]), "shape (1099511627776, 1099511627776, 28, 28) is absurdly large");

    [Fact]
    public void A_huge_shape_that_does_not_overflow_is_caught_by_the_file_size() =>
        AssertRejected(Write("big.npy", NpyWriter.Header([1L << 30, 1, 28, 28]), new byte[16]), "truncated: shape (1073741824, 1, 28, 28) needs");

    [Fact]
    public void An_implausibly_long_header_is_rejected()
    {
        byte[] preamble = [.. NpyReader.Magic, 2, 0, 0, 0, 0, 0];
        BinaryPrimitives.WriteUInt32LittleEndian(preamble.AsSpan(8), 0x7FFF_FFFF);
        AssertRejected(Write("long-header.npy", preamble, new byte[100]), "the .npy header claims 2,147,483,647 bytes; more than 65,536 is not a plausible header");
    }

    [Theory]
    [InlineData(4, 0, "unsupported .npy format version 4.0 (supported: 1.0, 2.0, 3.0)")]
    [InlineData(1, 1, "unsupported .npy format version 1.1 (supported: 1.0, 2.0, 3.0)")]
    public void Unknown_versions_are_rejected(byte major, byte minor, string message) =>
        AssertRejected(Write("ver.npy", [.. NpyReader.Magic, major, minor, 0, 0], new byte[64]), message);

    [Theory]
    [InlineData("{'descr': '<f4', 'fortran_order': False}", "malformed .npy header: no 'shape' key")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", "malformed .npy header: unexpected key 'extra'")]
    [InlineData("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,)}", "malformed .npy header: unexpected value 'Maybe'")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1)}", "shape (2, -1) has a negative dimension")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,", "malformed .npy header: the header ends early")]
    [InlineData("not a dict", "malformed .npy header: expected '{' at offset 0, found 'n'")]
    public void Malformed_headers_are_rejected(string dict, string message) =>
        AssertRejected(Write("m.npy", NpyWriter.Header(dict), new byte[8]), message);

    [Theory]
    [InlineData("bad-magic")]
    [InlineData("fortran")]
    [InlineData("dtype")]
    [InlineData("truncated")]
    [InlineData("shape")]
    public void Predict_reports_npy_errors_as_one_clear_line_and_exit_1(string problem)
    {
        (byte[] bytes, string message) = problem switch
        {
            // Not an image signature either: a file starting "GIF89a" is read as a GIF.
            "bad-magic" => ((byte[])[.. "PK\u0003\u0004"u8, .. new byte[100]], "not a NumPy .npy file"),
            "fortran" => ([.. NpyWriter.Header([1, 28, 28], fortranOrder: true), .. new byte[28 * 28 * 4]], "Fortran-order"),
            "dtype" => ([.. NpyWriter.Header([1, 28, 28], "<f8"), .. new byte[28 * 28 * 8]], "dtype '<f8' is not supported"),
            "truncated" => ([.. NpyWriter.Header([1, 28, 28]), .. new byte[100]], "truncated"),
            _ => ([.. NpyWriter.Header([28, 28]), .. new byte[28 * 28 * 4]], "shape (28, 28) does not match the model's input [1,28,28]"),
        };
        using var model = new TempModel();
        string path = model.WriteFile(problem + ".npy", bytes);

        CliResult r = Cnn.Run("predict", "--model", model.ModelDir, path);

        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith($"cnn: {path}: ", r.Error);
        Assert.Contains(message, r.Error);
    }

    private string Write(string name, byte[] header, byte[]? data = null) =>
        _temp.WriteFile(name, [.. header, .. data ?? []]);

    private static byte[] Bytes(float[] data)
    {
        var bytes = new byte[data.Length * 4];
        for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), data[i]);
        return bytes;
    }

    private static void AssertRejected(string path, string message)
    {
        var e = Assert.Throws<NpyFormatException>(() => NpyReader.Read(path));
        Assert.StartsWith($"{path}: ", e.Message);
        Assert.Contains(message, e.Message);
    }
}
