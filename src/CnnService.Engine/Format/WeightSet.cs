using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace CnnService.Engine.Format;

/// <summary>
/// The tensors of one weights file, handed out by name as layers are built. Each Take or Ignore
/// marks a tensor used, so <see cref="EnsureAllTaken"/> can catch a file meant for another
/// architecture (extra tensors) as surely as Take catches missing or misshapen ones.
/// Not thread-safe: a model is built on one thread.
/// </summary>
public sealed class WeightSet : IWeightSource
{
    /// <summary>A tensor's dtype, shape and raw little-endian bytes (a slice of the file's buffer).</summary>
    private sealed record Stored(string Dtype, int[] Shape, ReadOnlyMemory<byte> Bytes);

    private const int MaxNamesInMessage = 20;

    private readonly Dictionary<string, Stored> _tensors = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];
    private readonly HashSet<string> _taken = new(StringComparer.Ordinal);

    /// <summary>The name used in error messages (the path or name the set was read from).</summary>
    public string FileName { get; }
    /// <summary>Tensor names in file order.</summary>
    public IReadOnlyCollection<string> Names => _order;
    public IReadOnlyDictionary<string, string> Metadata { get; }

    internal WeightSet(string fileName, SafeTensorsHeader header, ReadOnlyMemory<byte> data)
    {
        FileName = fileName;
        Metadata = header.Metadata;
        foreach (var e in header.Tensors)
            Add(e.Name, new Stored(e.Dtype, e.Shape, data[(int)e.Begin..(int)e.End]));
    }

    private WeightSet(string fileName)
    {
        FileName = fileName;
        Metadata = new Dictionary<string, string>();
    }

    /// <summary>An in-memory set (tests, conversions). Data are copied; invalid tensors throw ArgumentException.</summary>
    public static WeightSet FromTensors(IEnumerable<NamedTensor> tensors, string fileName = "<memory>")
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var set = new WeightSet(fileName);
        foreach (var t in tensors)
        {
            SafeTensorsWriter.Validate(t);
            if (set._tensors.ContainsKey(t.Name))
                throw new ArgumentException($"tensor '{t.Name}' appears more than once", nameof(tensors));
            set.Add(t.Name, new Stored(SafeTensorsDtype.F32, (int[])t.Shape.Clone(), ToBytes(t.Data)));
        }
        return set;
    }

    public bool Contains(string name) => _tensors.ContainsKey(name);

    /// <summary>The tensor's shape (a copy); a missing tensor is a <see cref="ModelFormatException"/>.</summary>
    public int[] ShapeOf(string name) => (int[])Get(name).Shape.Clone();

    /// <summary>
    /// A fresh copy of F32 tensor <paramref name="name"/>, whose shape must be exactly
    /// <paramref name="expectedShape"/>; marks it taken.
    /// </summary>
    public float[] Take(string name, params int[] expectedShape)
    {
        var t = Get(name);
        if (t.Dtype != SafeTensorsDtype.F32)
            throw Error($"tensor '{name}' has dtype {t.Dtype}, expected F32");
        if (!t.Shape.AsSpan().SequenceEqual(expectedShape))
            throw Error($"tensor '{name}' has shape {SafeTensorsEntryReader.Format(t.Shape)}, expected {SafeTensorsEntryReader.Format(expectedShape)}");
        _taken.Add(name);
        return ToFloats(t.Bytes.Span);
    }

    /// <summary>Marks an optional tensor taken if present, whatever its dtype (e.g. BatchNorm's num_batches_tracked).</summary>
    public void Ignore(string name)
    {
        if (_tensors.ContainsKey(name))
            _taken.Add(name);
    }

    /// <summary>Throws if any tensor was neither taken nor ignored: the file does not match the model.</summary>
    public void EnsureAllTaken()
    {
        var extra = _order.Where(n => !_taken.Contains(n)).Order(StringComparer.Ordinal).ToList();
        if (extra.Count == 0)
            return;
        string names = string.Join(", ", extra.Take(MaxNamesInMessage).Select(n => $"'{FieldReader.Shorten(n)}'"));
        string more = extra.Count > MaxNamesInMessage ? $" and {extra.Count - MaxNamesInMessage} more" : "";
        throw Error($"unexpected {(extra.Count == 1 ? "tensor" : "tensors")} {names}{more} (not used by any layer)");
    }

    /// <summary>Copies of all F32 tensors in file order (other dtypes are skipped), for writing back.</summary>
    public IEnumerable<NamedTensor> AllFloat32()
    {
        foreach (var name in _order)
        {
            var t = _tensors[name];
            if (t.Dtype == SafeTensorsDtype.F32)
                yield return new NamedTensor(name, (int[])t.Shape.Clone(), ToFloats(t.Bytes.Span));
        }
    }

    private void Add(string name, Stored tensor)
    {
        _tensors.Add(name, tensor);
        _order.Add(name);
    }

    private Stored Get(string name) =>
        _tensors.TryGetValue(name, out var t) ? t : throw Error($"tensor '{name}' is missing");

    private ModelFormatException Error(string message) => new($"{FileName}: {message}");

    private static float[] ToFloats(ReadOnlySpan<byte> bytes)
    {
        var result = new float[bytes.Length / sizeof(float)];
        bytes.CopyTo(MemoryMarshal.AsBytes(result.AsSpan()));
        if (!BitConverter.IsLittleEndian) // the format is little-endian
        {
            var ints = MemoryMarshal.Cast<float, int>(result.AsSpan());
            BinaryPrimitives.ReverseEndianness(ints, ints);
        }
        return result;
    }

    internal static byte[] ToBytes(float[] data)
    {
        var bytes = MemoryMarshal.AsBytes(data.AsSpan()).ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            var ints = MemoryMarshal.Cast<byte, int>(bytes.AsSpan());
            BinaryPrimitives.ReverseEndianness(ints, ints);
        }
        return bytes;
    }
}
