using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace CnnService.Engine.Runtime;

/// <summary>A piece of work split into chunks; layers implement it and read their per-call arguments from the job.</summary>
internal interface IParallelWork
{
    void RunChunk(ParallelJob job, int chunk);
}

/// <summary>
/// Runs the chunks of one layer call on the calling thread plus up to threads-1 helpers of a
/// <see cref="WorkerPool"/>, without allocating: the job object belongs to a rented workspace and is reused.
/// Chunks are claimed with one compare-and-swap on (chunks, next) packed in a long, so a helper
/// that starts late, even after the job has moved on to the next layer, either finds a chunk of
/// the live call or nothing. The caller claims chunks too, so a busy pool only costs speed,
/// never progress. An exception in any chunk is rethrown on the calling thread once every
/// chunk has finished, never left to take down a pool thread.
/// </summary>
public sealed unsafe class ParallelJob
{
    private IParallelWork? _work;
    private long _state;   // (chunks << 32) | next
    private int _done;
    private Exception? _error;

    // Per-call arguments, set by the caller before the chunks are published.
    internal float* Input;

    /// <summary>Every input of a layer that reads several (Inputs[0] == Input); sized by the model's plan.</summary>
    internal nint[] Inputs = [];
    internal float* Output;
    internal float* Scratch;
    internal int Batch;
    internal int Chunks;

    /// <summary>The whole batch when this call runs one share of a batch split across threads, else 0: a kernel that depends
    /// on the batch (a dense product's GEMV or GEMM) chooses by it, so that a share computes the whole batch's bits.</summary>
    internal int WholeBatch;

    /// <summary>The batch a batch-dependent kernel chooses by: <see cref="WholeBatch"/>, or <see cref="Batch"/>.</summary>
    internal int KernelBatch => WholeBatch > 0 ? WholeBatch : Batch;

    /// <summary>Set while a <see cref="Model.Trace"/> runs: conv2d and dense store their output before the ReLU fused into them.</summary>
    internal bool Unfused;

    /// <summary>Set while <see cref="Model.ProfileLayers"/> runs: calls add the time their caller waited for helpers to
    /// <see cref="WaitTicks"/>, and the helpers' time in chunks to <see cref="HelperTicks"/>.</summary>
    internal bool TimeChunks;

    /// <summary><see cref="Stopwatch"/> ticks the caller spent waiting for helpers after its own chunks (with <see cref="TimeChunks"/>).</summary>
    internal long WaitTicks;

    /// <summary>Ticks helpers spent in chunks (with <see cref="TimeChunks"/>), all helpers together, each chunk added before it counts as done.</summary>
    internal long HelperTicks;

    internal void Run(IParallelWork work, int chunks, int threads) => Run(work, chunks, threads, WorkerPool.Shared);

    internal void Run(IParallelWork work, int chunks, int threads, WorkerPool pool)
    {
        Chunks = chunks;
        if (chunks <= 1 || threads <= 1)
        {
            for (int i = 0; i < chunks; i++) work.RunChunk(this, i);
            return;
        }

        _work = work;
        _done = 0;
        Interlocked.Exchange(ref _state, (long)chunks << 32); // publishes the arguments above
        pool.Ensure(threads - 1);
        int slot = pool.Post(this, Math.Min(threads, chunks) - 1);

        Drain(helper: false);
        long waiting = TimeChunks ? Stopwatch.GetTimestamp() : 0;
        SpinWait spin = default;
        while (Volatile.Read(ref _done) < chunks) spin.SpinOnce(sleep1Threshold: -1);
        if (TimeChunks) WaitTicks += Stopwatch.GetTimestamp() - waiting;
        pool.Withdraw(slot);
        _work = null;
        if (Interlocked.Exchange(ref _error, null) is Exception error) ExceptionDispatchInfo.Throw(error);
    }

    /// <summary>Whether a chunk of the live call is unclaimed: a worker's cheap look before it drains.</summary>
    internal bool HasChunksLeft
    {
        get
        {
            long s = Volatile.Read(ref _state);
            return (int)s < (int)(s >> 32);
        }
    }

    /// <summary>A worker's share: claims and runs chunks until none is left; exceptions go to the caller, never up the worker.</summary>
    internal void Help() => Drain(helper: true);

    private void Drain(bool helper)
    {
        while (true)
        {
            long s = Volatile.Read(ref _state);
            int next = (int)s, chunks = (int)(s >> 32);
            if (next >= chunks) return;
            if (Interlocked.CompareExchange(ref _state, s + 1, s) != s) continue;
            bool timed = helper && TimeChunks;
            long start = timed ? Stopwatch.GetTimestamp() : 0;
            try
            {
                _work!.RunChunk(this, next);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, e, null);
            }
            finally
            {
                // Added before the chunk counts as done: the caller reads the helpers' ticks once every chunk is.
                if (timed) Interlocked.Add(ref HelperTicks, Stopwatch.GetTimestamp() - start);

                Interlocked.Increment(ref _done);
            }
        }
    }
}
