using CnnService.Engine.Runtime;

namespace CnnService.Engine.Tests.Runtime;

public class HostCpuTimeTests
{
    // The first line of /proc/stat on the project's 2-vCPU VM, 2026-12-03.
    private const string TotalLine = "cpu  7514774 2140912 509615 6080172 13055 0 18792 419188 0 0";

    [Fact]
    public void Parse_sums_the_eight_kinds_and_counts_iowait_as_idle()
    {
        HostCpuTime t = Assert.NotNull(HostCpuTime.Parse(TotalLine));

        Assert.Equal(new HostCpuTime(Total: 16_696_508, Idle: 6_080_172 + 13_055, Steal: 419_188), t);
    }

    [Fact]
    public void Parse_takes_a_kernel_without_guest_columns()
    {
        Assert.Equal(new HostCpuTime(36, 9, 8), HostCpuTime.Parse("cpu 1 2 3 4 5 6 7 8"));
    }

    [Theory]
    [InlineData("cpu0 3745496 1082251 256144 3037986 7520 0 8990 210192 0 0")] // one CPU, not the machine
    [InlineData("cpu  1 2 3 4 5 6 7")] // no steal column
    [InlineData("cpu  1 2 3 -4 5 6 7 8")]
    [InlineData("cpu  1 2 3 x 5 6 7 8")]
    [InlineData("intr 1 2 3 4 5 6 7 8 9")]
    [InlineData("")]
    public void Parse_refuses_anything_but_the_machine_total_line(string line)
    {
        Assert.Null(HostCpuTime.Parse(line));
    }

    [Fact]
    public void Describe_gives_steal_and_idle_as_shares_of_the_ticks_between_the_readings()
    {
        var before = new HostCpuTime(Total: 1000, Idle: 500, Steal: 100);
        var after = new HostCpuTime(Total: 2000, Idle: 800, Steal: 250);

        Assert.Equal("steal 15 %, idle 30 % of the machine's CPU time", HostCpuTime.Describe(before, after));
    }

    [Fact]
    public void Describe_says_unknown_when_no_tick_passed()
    {
        var t = new HostCpuTime(1000, 500, 100);

        Assert.StartsWith("steal and idle unknown", HostCpuTime.Describe(t, t));
    }

    [Fact]
    public void Read_finds_the_total_line_on_linux()
    {
        Assert.Equal(File.Exists("/proc/stat"), HostCpuTime.Read() is { Total: > 0 });
    }
}
