using CnnService.Engine.Runtime;

namespace CnnService.Engine.Tests.Runtime;

/// <summary>How the CPU is named: for reports (<see cref="HostCpu.Name"/>) and for keying what was measured on it.</summary>
public class HostCpuTests
{
    [Fact]
    public void The_signature_starts_with_the_name_and_ends_with_the_l2_per_core()
    {
        Assert.StartsWith(HostCpu.Name, HostCpu.Signature);
        Assert.EndsWith($"L2 {BatchChunking.L2Bytes >> 10} KB", HostCpu.Signature);
    }

    [Fact]
    public void On_linux_the_signature_names_the_family_and_model()
    {
        if (!File.Exists("/proc/cpuinfo") || !File.ReadLines("/proc/cpuinfo").Any(l => l.StartsWith("cpu family", StringComparison.Ordinal))) return; // not x86 Linux

        Assert.Matches(@", family \d+ model \d+, ", HostCpu.Signature);
    }
}
