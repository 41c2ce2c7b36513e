namespace CnnService.Engine.Training;

/// <summary>
/// A tiny seeded random generator (Steele et al.'s SplitMix64) whose sequence is fixed by this
/// code, not by a runtime version: shuffles, augmentation and dropout masks derived from a run's
/// seed are the same on every machine, and a resumed run continues the same sequence.
/// </summary>
public struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        return Mix(z);
    }

    /// <summary>Uniform in [0, bound).</summary>
    public int Next(int bound) => (int)((Next() >> 33) * (ulong)bound >> 31);

    /// <summary>Uniform in [0, 1).</summary>
    public float NextFloat() => (Next() >> 40) * (1f / (1 << 24));

    /// <summary>The finaliser alone: a well-mixed function of one value.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A seed for one purpose of a run (a stream, an epoch, a step), independent of the others.</summary>
    public static ulong Derive(ulong seed, ulong stream, ulong index) => Mix(Mix(seed ^ Mix(stream)) + index);
}
