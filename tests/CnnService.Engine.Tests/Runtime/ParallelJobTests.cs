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
}
