using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace CnnService.Benchmarks;

/// <summary>
/// A benchmark class that declares how much work one operation is (an operation: one call, or
/// one of its OperationsPerInvoke), so the summary can show rates next to the mean time.
/// Called on a fresh instance with the case's parameters set and no setup run, in the host.
/// </summary>
public interface IFlopCounted
{
    /// <summary>Floating-point operations per operation of <paramref name="method"/>; a multiply-add counts as two.</summary>
    double FlopsPerOperation(string method);

    /// <summary>Images per operation (0: not a model benchmark).</summary>
    double ImagesPerOperation(string method) => 0;

    /// <summary>Cores the operation may use: the peak it is read against is this many times the one-core peak.</summary>
    int ThreadsUsed => 1;
}

/// <summary>
/// Summary columns derived from the mean time of a case and the work its class declares:
/// GFLOP/s, images/s, and the share of this machine's FMA peak (measured once in the host, per
/// core, times the threads the case uses).
/// </summary>
public sealed class FlopColumn : IColumn
{
    public enum Kind { GFlops, ImagesPerSecond, PeakShare }

    public static readonly FlopColumn GFlops = new(Kind.GFlops, "GFLOP/s", "Achieved GFLOP/s: declared FLOPs per operation / mean time");
    public static readonly FlopColumn ImagesPerSecond = new(Kind.ImagesPerSecond, "img/s", "Images per second: declared images per operation / mean time");
    public static readonly FlopColumn PeakShare = new(Kind.PeakShare, "% peak", "GFLOP/s as a share of the FP32 FMA peak of one core (measured in the host) times the threads used");

    private static readonly Lazy<double> PeakPerCore = new(() => FmaKernels.MeasurePeakGFlops());
    private static readonly ConcurrentDictionary<BenchmarkCase, (double Flops, double Images, int Threads)?> Work = new();

    private readonly Kind _kind;

    private FlopColumn(Kind kind, string name, string legend)
    {
        _kind = kind;
        ColumnName = name;
        Legend = legend;
    }

    public string Id => $"{nameof(FlopColumn)}.{_kind}";
    public string ColumnName { get; }
    public string Legend { get; }
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => (int)_kind;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;

    public bool IsAvailable(Summary summary) =>
        summary.BenchmarksCases.Any(c => typeof(IFlopCounted).IsAssignableFrom(c.Descriptor.Type))
        && (_kind != Kind.ImagesPerSecond || summary.BenchmarksCases.Any(c => WorkOf(c)?.Images > 0));

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (meanNs is not > 0 || WorkOf(benchmarkCase) is not { } work) return "-";
        double gflops = work.Flops / meanNs.Value; // FLOPs per nanosecond = GFLOP/s
        return _kind switch
        {
            Kind.GFlops => gflops.ToString("F2", CultureInfo.InvariantCulture),
            Kind.ImagesPerSecond => work.Images > 0 ? (work.Images / meanNs.Value * 1e9).ToString("N0", CultureInfo.InvariantCulture) : "-",
            _ => (gflops / (PeakPerCore.Value * work.Threads)).ToString("P1", CultureInfo.InvariantCulture),
        };
    }

    public override string ToString() => ColumnName;

    /// <summary>The declared work of a case: a fresh instance of its class with the case's parameters set.</summary>
    private static (double Flops, double Images, int Threads)? WorkOf(BenchmarkCase benchmarkCase) =>
        Work.GetOrAdd(benchmarkCase, static c =>
        {
            Type type = c.Descriptor.Type;
            if (!typeof(IFlopCounted).IsAssignableFrom(type)) return null;
            object instance = Activator.CreateInstance(type)!;
            foreach (var parameter in c.Parameters.Items)
            {
                const BindingFlags Flags = BindingFlags.Public | BindingFlags.Instance;
                if (type.GetProperty(parameter.Name, Flags) is { } property) property.SetValue(instance, parameter.Value);
                else type.GetField(parameter.Name, Flags)?.SetValue(instance, parameter.Value);
            }

            var counted = (IFlopCounted)instance;
            string method = c.Descriptor.WorkloadMethod.Name;
            return (counted.FlopsPerOperation(method), counted.ImagesPerOperation(method), counted.ThreadsUsed);
        });
}
