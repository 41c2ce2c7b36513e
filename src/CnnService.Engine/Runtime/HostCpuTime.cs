using System.Globalization;

namespace CnnService.Engine.Runtime;

/// <summary>
/// The whole machine's CPU time so far, by kind, from the first line of Linux's /proc/stat (clock ticks summed over
/// every CPU). Two readings around a benchmark say how much of its wall time the machine was busy elsewhere: on a
/// shared VM the hypervisor hands a vCPU to another guest now and then (steal), and a two-thread figure taken while
/// a tenth of both cores was stolen is not the same figure as one taken on a quiet host.
/// </summary>
public readonly record struct HostCpuTime(long Total, long Idle, long Steal)
{
    /// <summary>Now, or null where there is no /proc/stat (not Linux) or it cannot be read.</summary>
    public static HostCpuTime? Read()
    {
        try
        {
            return File.Exists("/proc/stat") && File.ReadLines("/proc/stat").FirstOrDefault() is { } line ? Parse(line) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// "cpu  user nice system idle iowait irq softirq steal [guest guest_nice]": idle counts idle and iowait; guest time is
    /// already inside user and nice, so it is not added again. Null for anything else.
    /// </summary>
    internal static HostCpuTime? Parse(string line)
    {
        string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 9 || fields[0] != "cpu") return null;
        long total = 0;
        var values = new long[8];
        for (int i = 0; i < 8; i++)
        {
            if (!long.TryParse(fields[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out values[i])) return null;
            total += values[i];
        }

        return new HostCpuTime(total, values[3] + values[4], values[7]);
    }

    /// <summary>What share of the machine's CPU time between two readings was stolen and idle, e.g. "steal 16 %, idle 14 %".</summary>
    public static string Describe(HostCpuTime before, HostCpuTime after)
    {
        long total = after.Total - before.Total;
        if (total <= 0) return "steal and idle unknown (no ticks between the readings)";
        double steal = 100.0 * (after.Steal - before.Steal) / total, idle = 100.0 * (after.Idle - before.Idle) / total;
        return string.Create(CultureInfo.InvariantCulture, $"steal {steal:F0} %, idle {idle:F0} % of the machine's CPU time");
    }

    /// <summary><see cref="Describe"/> from a reading taken earlier to now; empty where either is missing.</summary>
    public static string Since(HostCpuTime? before) => before is { } b && Read() is { } now ? Describe(b, now) : "";
}
