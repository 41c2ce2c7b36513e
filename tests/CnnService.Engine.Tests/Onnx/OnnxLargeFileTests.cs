using CnnService.Engine.Onnx;
using CnnService.Engine.Tests.Support;
using static CnnService.Engine.Tests.Onnx.Pb;

namespace CnnService.Engine.Tests.Onnx;

/// <summary>
/// A 45 MB model is read without per-element allocation: raw_data is not copied at all and a typed
/// (varint) tensor costs one array. Allocation is counted, not time, so the test cannot be flaky.
/// </summary>
public class OnnxLargeFileTests
{
    private const int FloatTensors = 10, FloatsEach = 1 << 20, Int64Count = 3 << 20;

    private static readonly Lazy<byte[]> File45MB = new(Build);

    /// <summary>Ten 4 MB FLOAT initializers in raw_data and one INT64 initializer of 3 Mi one-byte varints in int64_data.</summary>
    private static byte[] Build()
    {
        var floats = new float[FloatsEach];
        var initializers = new List<OnnxTensor>();
        for (int t = 0; t < FloatTensors; t++)
        {
            for (int i = 0; i < floats.Length; i++) floats[i] = t + i * 1e-6f;
            initializers.Add(OnnxTensor.FromFloats($"w{t}", [FloatsEach], floats));
        }

        byte[] model = OnnxWriter.Write(new OnnxModel { Graph = new OnnxGraph { Initializers = initializers } });
        byte[] varints = new byte[Int64Count];
        Array.Fill(varints, (byte)5);
        byte[] ints = Msg(PackedVarints(1, Int64Count), Varint(2, 7), Str(8, "ids"), Tag(7, 2), RawVarint(Int64Count), varints);
        // Fields of a message may be split: a second ModelProto.graph would be refused, so append the tensor inside the graph.
        return Splice(model, ints);
    }

    [Fact]
    public void FileIsAbout45MB() => Assert.InRange(File45MB.Value.Length, 45_000_000, 46_000_000);

    [Fact]
    public void Read_AllocatesOneArrayForTheTypedTensorAndNothingForRawData()
    {
        byte[] file = File45MB.Value;

        long bytes = Allocations.Fewest(2, () => OnnxReader.Read(file, null));

        Assert.InRange(bytes, Int64Count * 8L, Int64Count * 8L + 256 * 1024);
    }

    [Fact]
    public void ToFloats_AllocatesTheResultOnly()
    {
        OnnxTensor w = OnnxReader.Read(File45MB.Value, null).Graph.Initializers[3];

        long bytes = Allocations.Fewest(2, () => w.ToFloats());

        Assert.InRange(bytes, FloatsEach * 4L, FloatsEach * 4L + 1024);
    }

    [Fact]
    public void ValuesAreRight()
    {
        OnnxGraph graph = OnnxReader.Read(File45MB.Value, null).Graph;

        float[] w9 = graph.FindInitializer("w9")!.ToFloats();
        Assert.Equal(9 + 12345 * 1e-6f, w9[12345]);
        long[] ids = graph.FindInitializer("ids")!.ToInt64s();
        Assert.Equal(Int64Count, ids.Length);
        Assert.All(new[] { ids[0], ids[^1] }, v => Assert.Equal(5, v));
    }

    /// <summary>Rewrites the model so its graph also holds <paramref name="tensor"/> as an initializer.</summary>
    private static byte[] Splice(byte[] model, byte[] tensor)
    {
        var r = new ProtoReader(model, "large");
        var fields = new List<byte[]>();
        int fieldStart = 0;
        while (r.NextField())
        {
            if (r.Field == 7)
            {
                byte[] graph = r.ReadBytes("graph").ToArray();
                fields.Add(Len(7, Msg(graph, Len(5, tensor))));
            }
            else
            {
                r.Skip();
                fields.Add(model[fieldStart..r.Position]);
            }

            fieldStart = r.Position;
        }

        return Msg(fields.ToArray());
    }
}
