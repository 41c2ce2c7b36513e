namespace CnnService.Inference;

/// <summary>The element types of the Open Inference Protocol (KServe / Triton v2), REST and gRPC alike.</summary>
public enum TensorDatatype { Bool, UInt8, UInt16, UInt32, UInt64, Int8, Int16, Int32, Int64, FP16, FP32, FP64, Bytes }

public static class TensorDatatypes
{
    private static readonly string[] Names = ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"];
    private static readonly int[] Sizes = [1, 1, 2, 4, 8, 1, 2, 4, 8, 2, 4, 8, 0];

    /// <summary>The protocol's name ("FP32"); names are case-sensitive, as the protocol says.</summary>
    public static bool TryParse(string? name, out TensorDatatype datatype)
    {
        int index = Array.IndexOf(Names, name);
        datatype = (TensorDatatype)Math.Max(index, 0);
        return index >= 0;
    }

    public static string Name(this TensorDatatype datatype) => Names[(int)datatype];

    /// <summary>Bytes per element in the binary form; 0 for BYTES, whose elements are length-prefixed.</summary>
    public static int ElementSize(this TensorDatatype datatype) => Sizes[(int)datatype];

    /// <summary>Integer types carry raw pixels (0..255 for an 8-bit image) that get the model's own scale, mean and std.</summary>
    public static bool IsInteger(this TensorDatatype datatype) => datatype is >= TensorDatatype.UInt8 and <= TensorDatatype.Int64;

    public static bool IsFloat(this TensorDatatype datatype) => datatype is TensorDatatype.FP16 or TensorDatatype.FP32 or TensorDatatype.FP64;

    public static string AllNames => string.Join(", ", Names);
}
