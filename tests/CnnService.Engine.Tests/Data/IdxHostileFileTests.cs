using System.Buffers.Binary;
using System.IO.Compression;
using CnnService.Engine.Data;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Data;

/// <summary>Broken and hostile IDX files: each must be a DatasetFormatException naming the file and the problem, nothing else.</summary>
public class IdxHostileFileTests
{
    private const string FileName = "hostile-idx";

    [Fact]
    public void An_empty_file_is_rejected() => AssertRejected([], "empty");

    [Fact]
    public void A_file_shorter_than_the_magic_is_rejected() => AssertRejected([0, 0], "2 bytes, shorter than the 4-byte magic");

    [Fact]
    public void A_wrong_magic_is_rejected() =>
        AssertRejected([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 1, 7], "not an IDX file", "two zero bytes", "50 4b 03 04");

    [Fact]
    public void A_float32_file_is_rejected_as_an_unsupported_type() =>
        AssertRejected(Build(0x0D, [1], new byte[4]), "unsupported element type 0x0d (float32)", "only unsigned bytes (0x08)");

    [Fact]
    public void An_unknown_element_type_is_rejected() => AssertRejected(Build(0x42, [1], [0]), "unknown element type 0x42");

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(255)]
    public void A_dimension_count_outside_one_to_four_is_rejected(int rank) =>
        AssertRejected([0, 0, 8, (byte)rank, .. new byte[4 * Math.Max(rank, 1)]], $"{rank} dimensions", "1 to 4");

    [Fact]
    public void A_zero_dimension_is_rejected() => AssertRejected(Build(0x08, [3, 0, 28], []), "dimension 1 is 0", "positive");

    [Fact]
    public void A_negative_dimension_is_rejected() => AssertRejected(Build(0x08, [-1], []), "dimension 0 is -1");

    [Fact]
    public void Dimensions_whose_product_exceeds_the_limit_are_rejected_before_any_allocation() =>
        AssertRejected(Build(0x08, [60000, 28000, 28000], new byte[10]), "more than", "too large");

    [Fact]
    public void A_header_cut_inside_the_dimensions_is_rejected() =>
        AssertRejected([0, 0, 8, 3, 0, 0, 0, 1, 0, 0], "truncated", "inside the 3 dimension sizes");

    [Fact]
    public void Truncated_data_is_rejected_with_expected_and_actual_sizes() =>
        AssertRejected(Build(0x08, [2, 28, 28], new byte[1500]), "truncated", "need 1,568 data bytes, the file has 1,500");

    [Fact]
    public void Trailing_bytes_are_rejected_with_expected_and_actual_sizes() =>
        AssertRejected(Build(0x08, [2, 28, 28], new byte[1570]), "trailing bytes", "need 1,568 data bytes, the file has 1,570");

    [Fact]
    public void Truncated_data_inside_a_valid_gzip_is_rejected() =>
        AssertRejected(Gzip(Build(0x08, [10, 28, 28], new byte[7000])), "(gzip)", "truncated", "need 7,840 data bytes, the file has 7,000");

    [Fact]
    public void Trailing_bytes_inside_a_valid_gzip_are_rejected() =>
        AssertRejected(Gzip(Build(0x08, [5], new byte[6])), "(gzip)", "trailing bytes", "need 5 data bytes, the file has 6");

    [Fact]
    public void A_truncated_gzip_stream_is_rejected()
    {
        byte[] real = File.ReadAllBytes(Fixtures.File("mnist-small", "t10k-labels-idx1-ubyte.gz"));
        AssertRejected(real[..(real.Length / 2)], "(gzip)");
    }

    [Fact]
    public void A_missing_file_is_rejected_naming_it()
    {
        string missing = Path.Combine(Path.GetTempPath(), "cnnservice-no-such-idx-" + Guid.NewGuid().ToString("N"));
        var e = Assert.Throws<DatasetFormatException>(() => IdxFile.Read(missing));
        Assert.Equal($"{missing}: cannot open: no such file", e.Message);
    }

    /// <summary>Random corruption and truncation of real files, plain and gzip, must never surface as anything but DatasetFormatException.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Random_corruption_only_ever_reads_or_throws_DatasetFormatException(bool gzip)
    {
        IdxArray real = IdxFile.Read(Fixtures.File("mnist-small", "t10k-images-idx3-ubyte.gz"));
        byte[] valid = IdxWriter.ToBytes(new IdxArray([12, 28, 28], real.Data[..(12 * 784)]), gzip);
        var random = new Random(2024);
        int rejected = 0;
        for (int i = 0; i < 300; i++)
        {
            byte[] file = (byte[])valid.Clone();
            int edits = random.Next(1, 4);
            for (int e = 0; e < edits; e++)
            {
                // Half the edits land in the first 24 bytes, where the IDX or gzip header is.
                int at = random.Next(2) == 0 ? random.Next(Math.Min(24, file.Length)) : random.Next(file.Length);
                file[at] = (byte)random.Next(256);
            }

            if (random.Next(4) == 0) file = file[..random.Next(file.Length)];
            try
            {
                IdxArray array = IdxFile.Read(new MemoryStream(file), FileName);
                Assert.Equal(array.Data.Length, array.Dims.Aggregate(1L, (a, d) => a * d));
            }
            catch (DatasetFormatException e)
            {
                Assert.StartsWith(FileName, e.Message);
                rejected++;
            }
        }

        Assert.InRange(rejected, 1, 299);
    }

    private static byte[] Build(byte type, int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var memory = new MemoryStream();
        using (var gzip = new GZipStream(memory, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(bytes);
        return memory.ToArray();
    }

    private static void AssertRejected(byte[] file, params string[] fragments)
    {
        var e = Assert.Throws<DatasetFormatException>(() => IdxFile.Read(new MemoryStream(file), FileName));
        Assert.StartsWith(FileName + (file.Length >= 2 && file[0] == 0x1f && file[1] == 0x8b ? " (gzip): " : ": "), e.Message);
        foreach (string fragment in fragments) Assert.Contains(fragment, e.Message);
    }
}
