using System.Runtime.InteropServices;

namespace CnnService.Engine.Runtime;

/// <summary>The processor a benchmark ran on, for reports: speed figures mean little without it.</summary>
public static class HostCpu
{
    /// <summary>The CPU's model name from /proc/cpuinfo, or the process architecture where there is none.</summary>
    public static string Name { get; } = Read();

    private static string Read()
    {
        try
        {
            string? line = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal)) : null;
            if (line is not null && line.IndexOf(':') is int colon and >= 0 && line[(colon + 1)..].Trim() is { Length: > 0 } name) return name;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}
