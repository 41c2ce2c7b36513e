namespace CnnService.Engine.Format;

/// <summary>
/// The dtypes of the safetensors reference implementation with their size in bits. We only
/// compute with F32, but every standard dtype must be recognised to validate a file's layout.
/// </summary>
internal static class SafeTensorsDtype
{
    public const string F32 = "F32";

    private static readonly Dictionary<string, int> Bits = new(StringComparer.Ordinal)
    {
        ["BOOL"] = 8, ["U8"] = 8, ["I8"] = 8,
        ["F8_E5M2"] = 8, ["F8_E4M3"] = 8, ["F8_E8M0"] = 8,
        ["I16"] = 16, ["U16"] = 16, ["F16"] = 16, ["BF16"] = 16,
        ["I32"] = 32, ["U32"] = 32, ["F32"] = 32,
        ["I64"] = 64, ["U64"] = 64, ["F64"] = 64, ["C64"] = 64,
        // Sub-byte types: a tensor's bit count must be a whole number of bytes.
        ["F4"] = 4, ["F6_E2M3"] = 6, ["F6_E3M2"] = 6,
    };

    public static bool TryGetBits(string dtype, out int bits) => Bits.TryGetValue(dtype, out bits);

    public static string KnownList => string.Join(", ", Bits.Keys);
}
