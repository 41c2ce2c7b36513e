using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Runtime;

/// <summary>
/// The persistent helpers behind <see cref="ParallelJob"/>. Each test but the model one runs on a pool of its own,
/// so other tests' passes cannot wake or occupy its workers. Waits that would only end on a bug (a deadlock, a worker
/// that died) have a generous limit so the test fails instead of hanging; nothing asserts on how long anything took.
/// </summary>
public class WorkerPoolTests
{
    private static readonly TimeSpan Hang = TimeSpan.FromMinutes(1);

    /// <summary>Counts each chunk's runs and the threads that ran them.</summary>
    private sealed class Counter : IParallelWork
    {
        public readonly int[] Runs = new int[64];
        public readonly int[] Thread = new int[64];

        public void RunChunk(ParallelJob job, int chunk)
        {
            Interlocked.Increment(ref Runs[chunk]);
            Thread[chunk] = Environment.CurrentManagedThreadId;
        }
    }

    /// <summary>Two chunks: the first thread in waits until the other chunk has run, so a second thread must run it.</summary>
    private sealed class NeedsTwoThreads(bool fail) : IParallelWork
    {
        private int _entered;
        private readonly ManualResetEventSlim _secondDone = new();
        public readonly int[] Thread = new int[2];

        public void RunChunk(ParallelJob job, int chunk)
        {
            Thread[chunk] = Environment.CurrentManagedThreadId;
            if (Interlocked.Increment(ref _entered) == 1)
            {
                if (!_secondDone.Wait(Hang)) throw new TimeoutException("no second thread ran the other chunk");
            }
            else
            {
                _secondDone.Set();
            }

            if (fail) throw new InvalidOperationException($"chunk {chunk} failed");
        }
    }

    /// <summary>Chunks that signal they have started and then wait for a gate another thread opens.</summary>
    private sealed class Gated(ManualResetEventSlim gate, CountdownEvent started) : IParallelWork
    {
        public readonly int[] Runs = new int[2];

        public void RunChunk(ParallelJob job, int chunk)
        {
            Interlocked.Increment(ref Runs[chunk]);
            started.Signal();
            if (!gate.Wait(Hang)) throw new TimeoutException("the gate never opened");
        }
    }

    private static WorkerPool NewPool(int spinMicroseconds = 100) => new(TimeSpan.FromMicroseconds(spinMicroseconds));

    [Fact]
    public void Every_chunk_runs_exactly_once_across_many_calls_on_one_job()
    {
        using var pool = NewPool();
        var job = new ParallelJob();
        for (int call = 0; call < 2000; call++)
        {
            var work = new Counter();
            int chunks = 1 + call % 16;
            job.Run(work, chunks, threads: 3, pool);
            for (int c = 0; c < 64; c++) Assert.Equal(c < chunks ? 1 : 0, work.Runs[c]);
        }
    }

    [Fact]
    public void A_worker_runs_a_chunk_the_caller_cannot_reach()
    {
        using var pool = NewPool();
        var work = new NeedsTwoThreads(fail: false);

        new ParallelJob().Run(work, chunks: 2, threads: 2, pool);

        Assert.NotEqual(work.Thread[0], work.Thread[1]);
        Assert.Equal(1, pool.Count);
    }

    [Fact]
    public void An_exception_thrown_on_a_worker_is_rethrown_on_the_caller_and_the_worker_keeps_serving()
    {
        using var pool = NewPool();
        var job = new ParallelJob();

        // Both chunks throw, each on its own thread: one of them is the worker's.
        var e = Assert.Throws<InvalidOperationException>(() => job.Run(new NeedsTwoThreads(fail: true), chunks: 2, threads: 2, pool));
        Assert.Matches("chunk [01] failed", e.Message);

        var next = new NeedsTwoThreads(fail: false);
        job.Run(next, chunks: 2, threads: 2, pool);
        Assert.NotEqual(next.Thread[0], next.Thread[1]);
    }

    [Fact]
    public void A_caller_finishes_alone_while_every_worker_is_blocked_in_another_callers_chunk()
    {
        using var pool = NewPool();
        using var gate = new ManualResetEventSlim();
        using var started = new CountdownEvent(2);
        var blocked = new Gated(gate, started);

        // Caller A's two chunks block until the gate opens: A's caller in one, the pool's only worker in the other.
        var a = new Thread(() => new ParallelJob().Run(blocked, chunks: 2, threads: 2, pool));
        a.Start();
        Assert.True(started.Wait(Hang), "caller A and the worker did not both start a chunk");
        Assert.Equal(1, pool.Count);

        // Caller B posts work that no worker can take; it must run every chunk itself.
        var work = new Counter();
        var b = new Thread(() => new ParallelJob().Run(work, chunks: 8, threads: 2, pool));
        b.Start();
        Assert.True(b.Join(Hang), "caller B made no progress while the worker was blocked");
        Assert.All(work.Runs.Take(8), runs => Assert.Equal(1, runs));

        gate.Set();
        Assert.True(a.Join(Hang));
        Assert.Equal([1, 1], blocked.Runs);
    }

    [Fact]
    public void Idle_workers_park_after_their_spin()
    {
        using var pool = NewPool();
        var job = new ParallelJob();
        job.Run(new NeedsTwoThreads(fail: false), chunks: 2, threads: 3, pool);

        Assert.Equal(2, pool.Count);
        Assert.True(pool.WaitUntilAllParked(Hang), $"{pool.ParkedCount} of {pool.Count} workers parked");
    }

    [Fact]
    public void A_parked_worker_wakes_for_the_next_call()
    {
        using var pool = NewPool(spinMicroseconds: 0);
        var job = new ParallelJob();
        job.Run(new Counter(), chunks: 2, threads: 2, pool);
        Assert.True(pool.WaitUntilAllParked(Hang));

        var work = new NeedsTwoThreads(fail: false);
        job.Run(work, chunks: 2, threads: 2, pool);

        Assert.NotEqual(work.Thread[0], work.Thread[1]);
    }

    [Fact]
    public void Workers_start_once_for_the_largest_thread_count_asked()
    {
        using var pool = NewPool();
        var job = new ParallelJob();
        job.Run(new Counter(), chunks: 4, threads: 4, pool);
        job.Run(new Counter(), chunks: 2, threads: 2, pool);

        Assert.Equal(3, pool.Count);
    }

    [Fact]
    public void A_disposed_pool_leaves_callers_to_run_every_chunk_themselves()
    {
        var pool = NewPool();
        var job = new ParallelJob();
        job.Run(new Counter(), chunks: 2, threads: 2, pool);
        pool.Dispose();

        var work = new Counter();
        job.Run(work, chunks: 8, threads: 2, pool);

        Assert.All(work.Runs.Take(8), runs => Assert.Equal(1, runs));
        Assert.All(work.Thread.Take(8), thread => Assert.Equal(Environment.CurrentManagedThreadId, thread));
    }

    [Fact]
    public void Many_concurrent_callers_on_the_shared_pool_match_single_threaded_passes()
    {
        var spec = Architectures.SmallVgg();
        var weights = WeightInitializer.Initialize(spec, 3);
        Model serial = Model.Create(spec, weights, new EngineOptions { Threads = 1 });
        Model parallel = Model.Create(spec, WeightInitializer.Initialize(spec, 3), new EngineOptions { Threads = 2 });
        int size = serial.InputShape.Size;
        float[][] inputs = Enumerable.Range(0, 6).Select(i => TestModels.Random((1 + i % 3) * size, seed: 40 + i)).ToArray();
        float[][] expected = inputs.Select(x => TestModels.Forward(serial, x, x.Length / size)).ToArray();

        var failures = new List<string>();
        var callers = Enumerable.Range(0, 6).Select(t => new Thread(() =>
        {
            for (int call = 0; call < 40; call++)
            {
                int i = (call + t) % inputs.Length;
                float[] actual = TestModels.Forward(parallel, inputs[i], inputs[i].Length / size);
                if (!actual.AsSpan().SequenceEqual(expected[i])) lock (failures) failures.Add($"caller {t}, call {call}, input {i}");
            }
        })).ToList();
        callers.ForEach(t => t.Start());
        callers.ForEach(t => t.Join());

        Assert.Empty(failures);
    }
}
