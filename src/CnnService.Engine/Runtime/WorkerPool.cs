using System.Diagnostics;
using System.Runtime.InteropServices;

namespace CnnService.Engine.Runtime;

/// <summary>
/// Persistent helper threads for <see cref="ParallelJob"/>, shared by every caller in the process.
/// A batch-1 pass makes dozens of layer calls a few microseconds to a millisecond long; a thread-pool
/// item per call may find its thread asleep, and waking it costs tens of microseconds on a VM where
/// a cross-CPU wake-up is an IPI through the hypervisor. So a worker that runs out of work
/// spins for <see cref="SpinTicks"/> watching for the next call, and only then parks on its own
/// semaphore; an idle process burns no CPU once the budget is spent. Only as many workers spin as
/// there are other cores; the rest park at once.
///
/// Callers post their job in a slot, bump a version counter and wake parked workers if too few
/// are awake. Workers scan the slots and drain any job with chunks left. A worker is only ever a
/// helper: the caller claims chunks itself, so a worker that is slow, busy with another caller's job
/// or blocked only costs speed. Park and wake cannot miss each other: a worker publishes
/// <see cref="Parked"/> with a full fence and then reads the version; a caller bumps the version
/// with a full fence and then reads the worker's state. One of the two sees the other's write.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    private const int Running = 0, Parked = 1;

    /// <summary>Most workers a pool starts, whatever thread count callers ask for.</summary>
    public const int MaxWorkers = 63;

    /// <summary>Jobs that can wait for help at once; a caller that finds no free slot runs its chunks alone.</summary>
    private const int Slots = 64;

    /// <summary>The pool every <see cref="ParallelJob"/> uses unless given another.</summary>
    public static WorkerPool Shared { get; } = new(TimeSpan.FromMicroseconds(DefaultSpinMicroseconds));

    /// <summary>
    /// How long an idle worker spins before parking: longer than the gaps between parallel layer calls in a
    /// batch-1 pass (single-chunk layers are tens of microseconds), short enough that an idle service sleeps.
    /// </summary>
    public const int DefaultSpinMicroseconds = 200;

    private sealed class Worker(int index)
    {
        public readonly int Index = index;
        public int State;
        public readonly SemaphoreSlim Wake = new(0);
    }

    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private struct Hot
    {
        // Written by every post and read by every spinning worker: a cache line of its own.
        [FieldOffset(64)] public int Version;
    }

    private Hot _hot;
    private readonly ParallelJob?[] _slots = new ParallelJob?[Slots];
    private int _slotsUsed;                 // slots [0, _slotsUsed) may hold a job
    private Worker[] _workers = [];
    private readonly Lock _grow = new();
    private readonly long _spinTicks;
    private readonly object _parkedChanged = new(); // pulsed when a worker parks; for tests
    private volatile bool _disposed;

    public WorkerPool(TimeSpan spin)
    {
        _spinTicks = (long)(spin.TotalSeconds * Stopwatch.Frequency);
    }

    /// <summary>Spin budget in <see cref="Stopwatch"/> ticks.</summary>
    public long SpinTicks => _spinTicks;

    /// <summary>Workers started so far.</summary>
    public int Count => Volatile.Read(ref _workers).Length;

    /// <summary>Workers parked now (waiting on their semaphore, or about to).</summary>
    public int ParkedCount
    {
        get
        {
            int parked = 0;
            foreach (Worker w in Volatile.Read(ref _workers)) if (Volatile.Read(ref w.State) == Parked) parked++;
            return parked;
        }
    }

    /// <summary>Starts workers until there are <paramref name="helpers"/> (at most <see cref="MaxWorkers"/>).</summary>
    public void Ensure(int helpers)
    {
        helpers = Math.Min(helpers, MaxWorkers);
        if (Volatile.Read(ref _workers).Length >= helpers) return;
        lock (_grow)
        {
            Worker[] workers = _workers;
            if (workers.Length >= helpers || _disposed) return;
            var grown = new Worker[helpers];
            workers.CopyTo(grown, 0);
            for (int i = workers.Length; i < helpers; i++)
            {
                var worker = grown[i] = new Worker(i);
                // Short enough to show whole in top -H and /proc (Linux keeps 15 characters of a thread name).
                new Thread(() => Loop(worker)) { IsBackground = true, Name = $"cnn worker {i + 1}" }.Start();
            }

            Volatile.Write(ref _workers, grown);
        }
    }

    /// <summary>Offers <paramref name="job"/> to the workers, waking parked ones until about <paramref name="helpers"/> are
    /// awake. Returns the slot to give back to <see cref="Withdraw"/>, or -1 when every slot is taken.</summary>
    public int Post(ParallelJob job, int helpers)
    {
        int slot = -1;
        for (int i = 0; i < Slots; i++)
        {
            if (Volatile.Read(ref _slots[i]) is null && Interlocked.CompareExchange(ref _slots[i], job, null) is null)
            {
                slot = i;
                break;
            }
        }

        if (slot < 0) return -1;
        int used = Volatile.Read(ref _slotsUsed);
        while (used <= slot && Interlocked.CompareExchange(ref _slotsUsed, slot + 1, used) is int seen && seen != used) used = seen;

        Interlocked.Increment(ref _hot.Version); // full fence: the slot and the job's chunks are visible before the version
        Worker[] workers = Volatile.Read(ref _workers);
        int awake = 0;
        for (int i = 0; i < workers.Length && awake < helpers; i++)
        {
            Worker w = workers[i];
            if (Volatile.Read(ref w.State) == Running || Interlocked.CompareExchange(ref w.State, Running, Parked) != Parked)
            {
                awake++; // awake already: it sees the new version (though it may be busy with another job)
                continue;
            }

            w.Wake.Release();
            awake++;
        }

        return slot;
    }

    /// <summary>Takes the job out of its slot; workers that already read it find no chunks left, or the caller's next call.</summary>
    public void Withdraw(int slot)
    {
        if (slot >= 0) Volatile.Write(ref _slots[slot], null);
    }

    /// <summary>Waits until every worker is parked, or <paramref name="timeout"/> passes; for tests.</summary>
    public bool WaitUntilAllParked(TimeSpan timeout)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        lock (_parkedChanged)
        {
            while (ParkedCount < Count)
            {
                long left = deadline - Stopwatch.GetTimestamp();
                if (left <= 0) return false;
                Monitor.Wait(_parkedChanged, TimeSpan.FromSeconds((double)left / Stopwatch.Frequency));
            }

            return true;
        }
    }

    /// <summary>Lets every worker end (the shared pool lives as long as the process; tests' pools end with the test).
    /// Calls already running finish on their callers.</summary>
    public void Dispose()
    {
        lock (_grow)
        {
            _disposed = true;
            Interlocked.Increment(ref _hot.Version);
            foreach (Worker w in _workers)
                if (Interlocked.CompareExchange(ref w.State, Running, Parked) == Parked) w.Wake.Release();
        }
    }

    private void Loop(Worker self)
    {
        while (!_disposed)
        {
            int seen = Volatile.Read(ref _hot.Version);
            if (HelpAny(self.Index)) continue;
            // More spinners than other cores would only take turns on them: the rest park at once.
            if (self.Index < Environment.ProcessorCount - 1 && SpinUntilChanged(seen)) continue;
            Park(self, seen);
        }
    }

    /// <summary>Drains the first posted job with chunks left, starting from this worker's own slot so workers spread over callers.</summary>
    private bool HelpAny(int start)
    {
        int used = Volatile.Read(ref _slotsUsed);
        for (int k = 0; k < used; k++)
        {
            int i = (start + k) % used;
            if (Volatile.Read(ref _slots[i]) is { } job && job.HasChunksLeft)
            {
                // Read after the slot: a job posted after Dispose finds it set, so it never gets a worker.
                if (_disposed) return false;
                job.Help();
                return true;
            }
        }

        return false;
    }

    private bool SpinUntilChanged(int seen)
    {
        long deadline = Stopwatch.GetTimestamp() + _spinTicks;
        for (int i = 1; ; i++)
        {
            if (Volatile.Read(ref _hot.Version) != seen) return true;
            Thread.SpinWait(8);
            // Let another runnable thread have this core now and then: with more threads than cores, a spinning
            // helper must not hold up a caller that has real work.
            if ((i & 63) == 0)
            {
                if (Stopwatch.GetTimestamp() > deadline) return false;
                Thread.Yield();
            }
        }
    }

    private void Park(Worker self, int seen)
    {
        Interlocked.Exchange(ref self.State, Parked); // full fence before reading the version
        if (Volatile.Read(ref _hot.Version) != seen && Interlocked.CompareExchange(ref self.State, Running, Parked) == Parked)
            return; // a job came in meanwhile: back to work without sleeping

        // Parked for good (or a caller already set Running and released once; the wait consumes that release).
        lock (_parkedChanged) Monitor.PulseAll(_parkedChanged);
        self.Wake.Wait();
    }
}
