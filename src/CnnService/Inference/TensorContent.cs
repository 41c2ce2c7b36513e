namespace CnnService.Inference;

/// <summary>
/// The elements of one input tensor as they arrived on the wire (a JSON array, binary bytes, gRPC contents). The
/// core counts them first and reads them only once the shape is known to fit the model and the limits, so a
/// declared size is never allocated before it is checked against data that is really there.
/// </summary>
public abstract class TensorContent
{
    /// <summary>How many elements the data holds, without converting them; a 400 when it is not a whole number of them.</summary>
    public abstract long CountElements(string input, TensorDatatype datatype);

    /// <summary>Writes every element as a float, as given (not normalised), into <paramref name="destination"/>, which holds exactly their number.</summary>
    public abstract void ReadNumbers(string input, TensorDatatype datatype, Span<float> destination);

    /// <summary>Hands each BYTES element, in order, to <paramref name="handler"/>.</summary>
    public abstract void ReadBytes(string input, BytesElementHandler handler);
}

/// <summary>Receives BYTES element <paramref name="index"/> (flattened, row-major).</summary>
public delegate void BytesElementHandler(int index, ReadOnlySpan<byte> element);

/// <summary>One input tensor of a request: its name, the protocol's datatype name, its shape, and its data.</summary>
public sealed record InferInput(string Name, string Datatype, long[] Shape, TensorContent Content);
