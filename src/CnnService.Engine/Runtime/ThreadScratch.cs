using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CnnService.Engine.Runtime;

/// <summary>
/// Each thread's own packing buffer for GEMM panels (ONNX Runtime's MLAS keeps one per thread
/// too). Chunks of a layer call can then run on whichever thread claims them, and a buffer stays
/// warm in that core's cache from call to call. Pinned, grown on demand, never shrunk: after the
/// first calls on a thread it never allocates. Aligned to 64 bytes, so packed panel rows start
/// on cache lines and the micro-kernel's 512-bit loads never straddle two.
/// </summary>
internal static unsafe class ThreadScratch
{
    [ThreadStatic]
    private static float[]? t_buffer;

    public static float* Get(long floats)
    {
        const int AlignFloats = 16;
        float[]? buffer = t_buffer;
        if (buffer is null || buffer.LongLength < floats + AlignFloats)
        {
            if (floats + AlignFloats > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(floats));
            t_buffer = buffer = GC.AllocateUninitializedArray<float>((int)Math.Max(floats + AlignFloats, 1 << 16), pinned: true);
        }

        nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        return (float*)((start + 63) & ~(nint)63);
    }
}
