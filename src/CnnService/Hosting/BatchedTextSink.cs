using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Debugging;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Parsing;

namespace CnnService.Hosting;

/// <summary>
/// Log lines for a redirected output (a container's log pipe, a file): a request only queues its event, and one
/// background loop, every <see cref="Interval"/>, formats whatever has arrived and hands it to the writer in one
/// flush. Per line that is no wake-up of another thread and no write call of its own; with a line per request
/// those cost more than the line itself (measured: a sixth of a small model's request). Past
/// <see cref="Capacity"/> waiting events new ones are dropped, never blocking a request, and the next flush says
/// how many. Disposing writes what is still queued.
/// </summary>
public sealed class BatchedTextSink : ILogEventSink, IDisposable
{
    private readonly ConcurrentQueue<LogEvent> _queue = new();
    private readonly ITextFormatter _formatter;
    private readonly TextWriter _output;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _queued;
    private long _dropped;

    public BatchedTextSink(ITextFormatter formatter, TextWriter output, int capacity, TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _formatter = formatter;
        _output = output;
        Capacity = capacity;
        Interval = interval;
        using (ExecutionContext.SuppressFlow()) _loop = Task.Run(LoopAsync);  // no request's context kept alive by the loop
    }

    public int Capacity { get; }

    public TimeSpan Interval { get; }

    public void Emit(LogEvent logEvent)
    {
        if (Interlocked.Increment(ref _queued) > Capacity)
        {
            Interlocked.Decrement(ref _queued);
            Interlocked.Increment(ref _dropped);
            return;
        }

        _queue.Enqueue(logEvent);
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token)) Drain();
        }
        catch (OperationCanceledException)
        {
            // Disposed: the last drain follows there.
        }
    }

    /// <summary>Formats and writes every queued event, then the count of any dropped; one flush. Never throws: a broken output must not stop the loop.</summary>
    private void Drain()
    {
        try
        {
            bool wrote = false;
            while (_queue.TryDequeue(out LogEvent? logEvent))
            {
                Interlocked.Decrement(ref _queued);
                _formatter.Format(logEvent, _output);
                wrote = true;
            }

            long dropped = Interlocked.Exchange(ref _dropped, 0);
            if (dropped > 0)
            {
                _formatter.Format(DroppedEvent(dropped), _output);  // through the formatter: a JSON log stays JSON
                wrote = true;
            }

            if (wrote) _output.Flush();
        }
        catch (Exception e)
        {
            SelfLog.WriteLine("BatchedTextSink: writing log lines failed: {0}", e);
        }
    }

    private LogEvent DroppedEvent(long dropped) => new(DateTimeOffset.Now, LogEventLevel.Warning, null, DroppedTemplate,
        [new LogEventProperty("Dropped", new ScalarValue(dropped)), new LogEventProperty("Capacity", new ScalarValue(Capacity))]);

    private static readonly MessageTemplate DroppedTemplate =
        new MessageTemplateParser().Parse("{Dropped} log lines dropped: more than {Capacity} were waiting to be written");

    public void Dispose()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        _loop.Wait();
        Drain();
        _stop.Dispose();
    }
}
