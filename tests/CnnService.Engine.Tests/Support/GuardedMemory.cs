using System.Runtime.InteropServices;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Tests.Support;

/// <summary>
/// Floats that end exactly where a page nothing may read begins (Linux: mmap, then mprotect the last page to PROT_NONE), so a
/// kernel that reads one float past its input crashes the test instead of reading whatever follows in the heap. Elsewhere
/// <see cref="Supported"/> is false.
/// </summary>
internal sealed unsafe class GuardedMemory : IDisposable
{
    private const int ProtNone = 0, ProtReadWrite = 3, MapPrivateAnonymous = 0x22;

    private readonly byte* _mapping;
    private readonly nuint _bytes;

    public static bool Supported => OperatingSystem.IsLinux();

    /// <summary>Room for <paramref name="values"/>, copied in, its last float the last before the guard page.</summary>
    public GuardedMemory(ReadOnlySpan<float> values)
    {
        nuint page = (nuint)Environment.SystemPageSize, data = ((nuint)values.Length * sizeof(float) + page - 1) / page * page;
        _bytes = data + page;
        _mapping = (byte*)mmap(null, _bytes, ProtReadWrite, MapPrivateAnonymous, -1, 0);
        if ((nint)_mapping == -1) throw new InvalidOperationException($"mmap failed: {Marshal.GetLastPInvokeError()}");
        if (mprotect(_mapping + data, page, ProtNone) != 0) throw new InvalidOperationException($"mprotect failed: {Marshal.GetLastPInvokeError()}");
        Length = values.Length;
        Pointer = (float*)(_mapping + data) - values.Length;
        values.CopyTo(Span);
    }

    public float* Pointer { get; }

    public int Length { get; }

    public Span<float> Span => new(Pointer, Length);

    public void Dispose() => munmap(_mapping, _bytes);

    /// <summary><paramref name="model"/>'s output for <paramref name="x"/>, read from guarded memory where supported.</summary>
    public static float[] Forward(Model model, float[] x, int batch)
    {
        if (!Supported) return TestModels.Forward(model, x, batch);
        using var input = new GuardedMemory(x);
        var output = new float[batch * model.OutputShape.Size];
        model.Forward(input.Span, output, batch);
        return output;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern void* mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

    [DllImport("libc", SetLastError = true)]
    private static extern int mprotect(void* addr, nuint length, int prot);

    [DllImport("libc", SetLastError = true)]
    private static extern int munmap(void* addr, nuint length);
}
