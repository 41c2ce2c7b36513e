using System.Runtime.InteropServices;

namespace CnnService.Engine.Runtime;

/// <summary>The processor a benchmark ran on, for reports: speed figures mean little without it.</summary>
public static class HostCpu
{
    /// <summary>The CPU's model name from /proc/cpuinfo, or the process architecture where there is none.</summary>
    public static string Name { get; } = Field("model name") ?? RuntimeInformation.ProcessArchitecture.ToString();

    /// <summary>
    /// The CPU as precisely as the OS says, for keying what was measured on it: the name, family and model, and L2 per core
    /// ("AMD EPYC, family 26 model 2, L2 1024 KB"). A virtual machine may show a bare "AMD EPYC" for several generations,
    /// whose best plans differ.
    /// </summary>
    public static string Signature { get; } = string.Join(", ", new[]
    {
        Name,
        Field("cpu family") is { } family && Field("model") is { } model ? $"family {family} model {model}" : null,
        $"L2 {BatchChunking.L2Bytes >> 10} KB",
    }.Where(part => part is not null));

    /// <summary>The first value of <paramref name="key"/> in /proc/cpuinfo, or null (no such file or field).</summary>
    private static string? Field(string key)
    {
        try
        {
            if (!File.Exists("/proc/cpuinfo")) return null;
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                int colon = line.IndexOf(':');
                if (colon > 0 && line[..colon].Trim() == key && line[(colon + 1)..].Trim() is { Length: > 0 } value) return value;
                if (line.Length == 0) break; // the first processor's block ends
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }
}
