using System.IO.Compression;
using CnnService.Engine.Data;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Data;

public class IdxFileTests
{
    [Fact]
    public void Reads_the_mnist_test_images_fixture_with_its_dimensions_and_pixels()
    {
        IdxArray images = IdxFile.Read(Fixtures.File("mnist-small", "t10k-images-idx3-ubyte.gz"));

        Assert.Equal([1000, 28, 28], images.Dims);
        Assert.Equal(784_000, images.Data.Length);
        Assert.Equal(18454, Sum(images.Data.AsSpan(0, 784)));
        Assert.Equal(24443134, Sum(images.Data));
    }

    [Fact]
    public void Reads_the_mnist_test_labels_fixture_whose_first_digits_are_the_known_ones()
    {
        IdxArray labels = IdxFile.Read(Fixtures.File("mnist-small", "t10k-labels-idx1-ubyte.gz"));

        Assert.Equal([1000], labels.Dims);
        Assert.Equal([7, 2, 1, 0, 4], labels.Data[..5]);
        Assert.Equal(4327, Sum(labels.Data));
    }

    [Fact]
    public void Reads_the_fashion_mnist_training_fixture()
    {
        IdxArray images = IdxFile.Read(Fixtures.File("fashion-mnist-small", "train-images-idx3-ubyte.gz"));
        IdxArray labels = IdxFile.Read(Fixtures.File("fashion-mnist-small", "train-labels-idx1-ubyte.gz"));

        Assert.Equal([2000, 28, 28], images.Dims);
        Assert.Equal(113529887, Sum(images.Data));
        Assert.Equal([9, 0, 0, 3, 0], labels.Data[..5]);
    }

    [Fact]
    public void A_plain_file_and_its_gzip_give_the_same_array()
    {
        using var temp = new TempDir();
        string gz = Fixtures.File("mnist-small", "t10k-images-idx3-ubyte.gz"), plain = temp.File("t10k-images-idx3-ubyte");
        using (var source = new GZipStream(File.OpenRead(gz), CompressionMode.Decompress))
        using (FileStream target = File.Create(plain))
        {
            source.CopyTo(target);
        }

        IdxArray fromGzip = IdxFile.Read(gz), fromPlain = IdxFile.Read(plain);

        Assert.Equal(fromGzip.Dims, fromPlain.Dims);
        Assert.Equal(fromGzip.Data, fromPlain.Data);
    }

    [Fact]
    public void Gzip_is_recognised_by_its_magic_bytes_not_by_the_file_name()
    {
        using var temp = new TempDir();
        var array = new IdxArray([2, 3], [1, 2, 3, 4, 5, 6]);
        IdxWriter.Write(temp.File("compressed-but-named-plain"), array, gzip: true);
        IdxWriter.Write(temp.File("plain-but-named.gz"), array, gzip: false);

        Assert.Equal(array.Data, IdxFile.Read(temp.File("compressed-but-named-plain")).Data);
        Assert.Equal(array.Data, IdxFile.Read(temp.File("plain-but-named.gz")).Data);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void What_the_writer_writes_the_reader_reads_back(bool gzip)
    {
        var random = new Random(5);
        var data = new byte[3 * 4 * 5 * 2];
        random.NextBytes(data);
        var array = new IdxArray([3, 4, 5, 2], data);

        IdxArray back = IdxFile.Read(new MemoryStream(IdxWriter.ToBytes(array, gzip)), "mem");

        Assert.Equal(array.Dims, back.Dims);
        Assert.Equal(array.Data, back.Data);
    }

    [Fact]
    public void The_writer_lays_out_the_header_big_endian()
    {
        byte[] bytes = IdxWriter.ToBytes(new IdxArray([258], new byte[258]));

        Assert.Equal([0, 0, 0x08, 1, 0, 0, 1, 2], bytes[..8]);
        Assert.Equal(8 + 258, bytes.Length);
    }

    [Fact]
    public void The_writer_refuses_data_that_does_not_fill_the_dimensions()
    {
        var e = Assert.Throws<ArgumentException>(() => IdxWriter.ToBytes(new IdxArray([2, 2], new byte[3])));
        Assert.Contains("hold 4 values; the data has 3", e.Message);
    }

    private static long Sum(ReadOnlySpan<byte> bytes)
    {
        long sum = 0;
        foreach (byte b in bytes) sum += b;
        return sum;
    }
}
