using CnnService.Engine.Runtime;

namespace CnnService.Engine.Tests.Runtime;

public class ParallelJobTests
{
    private sealed class Recorder(int failAt) : IParallelWork
    {
        public int[] Runs = new int[64];

        public void RunChunk(ParallelJob job, int chunk)
        {
            Interlocked.Increment(ref Runs[chunk]);
            Thread.SpinWait(2000);
            if (chunk == failAt) throw new InvalidOperationException($"chunk {chunk} failed");
        }
    }

    /// <summary>Two chunks on two threads: the caller's returns once both have started; the other's waits for it to
    /// return and then works on, so the caller must wait for the helper.</summary>
    private sealed class HelperFinishesLast(int callerThread) : IParallelWork
    {
        private static readonly TimeSpan Hang = TimeSpan.FromMinutes(1);
        private readonly CountdownEvent _started = new(2);
        private readonly ManualResetEventSlim _callerDone = new();

        public void RunChunk(ParallelJob job, int chunk)
        {
            _started.Signal();
            if (!_started.Wait(Hang)) throw new TimeoutException("no second thread took the other chunk");
            if (Environment.CurrentManagedThreadId == callerThread)
            {
                _callerDone.Set();
                return;
            }

            if (!_callerDone.Wait(Hang)) throw new TimeoutException("the caller's chunk never returned");
            Thread.SpinWait(10_000);
        }
    }

    [Fact]
    public void Every_chunk_runs_exactly_once_across_threads()
    {
        var job = new ParallelJob();
        for (int call = 0; call < 200; call++)
        {
            var work = new Recorder(failAt: -1);
            job.Run(work, chunks: 16, threads: 2);
            Assert.All(work.Runs.Take(16), runs => Assert.Equal(1, runs));
        }
    }

    [Fact]
    public void A_failing_chunk_is_rethrown_on_the_caller_after_the_others_finish()
    {
        var job = new ParallelJob();
        var work = new Recorder(failAt: 5);

        var e = Assert.Throws<InvalidOperationException>(() => job.Run(work, chunks: 16, threads: 2));
        Assert.Equal("chunk 5 failed", e.Message);
        Assert.All(work.Runs.Take(16), runs => Assert.Equal(1, runs));

        // The job is reusable afterwards.
        var next = new Recorder(failAt: -1);
        job.Run(next, chunks: 8, threads: 2);
        Assert.All(next.Runs.Take(8), runs => Assert.Equal(1, runs));
    }

    [Fact]
    public void A_timed_call_counts_the_helpers_chunk_and_the_callers_wait_for_it()
    {
        using var pool = new WorkerPool(TimeSpan.FromMicroseconds(100));
        var job = new ParallelJob { TimeChunks = true };

        job.Run(new HelperFinishesLast(Environment.CurrentManagedThreadId), chunks: 2, threads: 2, pool);

        Assert.True(job.HelperTicks > 0, "the helper's chunk, counted before the call returned");
        Assert.True(job.WaitTicks > 0, "the caller finished first and waited");
    }

    /// <summary>Chunks that signal they have started and then hold their thread until a gate opens.</summary>
    private sealed class Gated(ManualResetEventSlim gate, CountdownEvent started) : IParallelWork
    {
        public void RunChunk(ParallelJob job, int chunk)
        {
            started.Signal();
            if (!gate.Wait(TimeSpan.FromMinutes(1))) throw new TimeoutException("the gate never opened");
        }
    }

    [Fact]
    public void A_timed_call_counts_no_helper_time_for_chunks_its_caller_ran()
    {
        using var pool = new WorkerPool(TimeSpan.FromMicroseconds(100));
        using var gate = new ManualResetEventSlim();
        using var started = new CountdownEvent(2);
        // Another caller's two chunks hold that caller and the pool's only worker until the gate opens.
        var other = new Thread(() => new ParallelJob().Run(new Gated(gate, started), chunks: 2, threads: 2, pool));
        other.Start();
        Assert.True(started.Wait(TimeSpan.FromMinutes(1)), "the other caller and the worker did not both start a chunk");
        var job = new ParallelJob { TimeChunks = true };

        job.Run(new Recorder(failAt: -1), chunks: 8, threads: 2, pool);

        gate.Set();
        Assert.True(other.Join(TimeSpan.FromMinutes(1)));
        Assert.Equal(0L, job.HelperTicks);
    }

    [Fact]
    public void On_one_thread_a_timed_call_waits_for_no_helper()
    {
        var job = new ParallelJob { TimeChunks = true };

        job.Run(new Recorder(failAt: -1), chunks: 4, threads: 1);

        Assert.Equal((0L, 0L), (job.WaitTicks, job.HelperTicks));
    }

    [Fact]
    public void Untimed_calls_count_no_ticks()
    {
        var job = new ParallelJob();

        job.Run(new Recorder(failAt: -1), chunks: 16, threads: 2);

        Assert.Equal((0L, 0L), (job.WaitTicks, job.HelperTicks));
    }
}
