using System.Diagnostics;
using System.Threading.Channels;
using CnnService.Engine.Runtime;

namespace CnnService.Batching;

/// <summary>
/// Coalesces concurrent requests for one model version into batched forward passes, as Triton's
/// dynamic batcher does. One worker per version takes the first queued request, adds queued ones while
/// they fit in <see cref="BatchingOptions.MaxBatchSize"/> (waiting up to the configured delay for more),
/// runs one forward pass and hands each request its slice. One pass at a time per version: the engine
/// already spreads a pass over every core, so two passes would only fight over them.
/// The queue holds at most <see cref="BatchingOptions.MaxQueuedImages"/> images: past that a request is
/// refused at once (<see cref="TrySubmit"/>), so overload is shed instead of turning into latency. A request
/// canceled while it waits leaves the queue at once and never runs.
/// With no delay configured, a request that finds the version idle (nothing queued, no pass running) runs
/// at once on the caller's thread instead: a lone client then pays no hand-off to the worker and back
/// (two thread wake-ups, as long as a small network's whole pass). Requests that arrive meanwhile queue
/// and the worker batches them as before, so under load nothing changes.
/// </summary>
public sealed class DynamicBatcher
{
    private readonly Model _model;
    private readonly int _maxBatch;
    private readonly int _maxQueuedImages;
    private readonly long _maxDelayTicks;
    private readonly Action<int>? _onBatch;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly List<Pending> _batch = [];
    private readonly SemaphoreSlim _pass = new(1, 1);  // one forward pass at a time, the worker's or a lone caller's; guards the buffers
    private volatile bool _completed;
    private float[] _inputs = [], _outputs = [];
    private int _queued, _queuedImages;

    /// <param name="onBatch">Told the size of every batch run (the metrics' histogram).</param>
    public DynamicBatcher(Model model, BatchingOptions options, Action<int>? onBatch = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxBatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxDelayMilliseconds);
        _model = model;
        _maxBatch = options.MaxBatchSize;
        _maxQueuedImages = options.MaxQueuedImages;
        _maxDelayTicks = (long)(options.MaxDelayMilliseconds * Stopwatch.Frequency / 1000);
        _onBatch = onBatch;
        Completion = Task.Run(RunAsync);
    }

    /// <summary>Finishes when the batcher is completed and its queue drained.</summary>
    public Task Completion { get; }

    /// <summary>Requests waiting for a batch.</summary>
    public int QueueLength => Volatile.Read(ref _queued);

    /// <summary>Images waiting for a batch, held to <see cref="BatchingOptions.MaxQueuedImages"/>.</summary>
    public int QueuedImages => Volatile.Read(ref _queuedImages);

    /// <summary>Test seam: awaited by the worker before each forward pass, so a test can hold the batcher while the queue fills.</summary>
    internal Func<Task>? BeforeForward { get; set; }

    /// <summary>Queues <paramref name="count"/> normalised images ([count, C, H, W] in <paramref name="inputs"/>) and returns their outputs.</summary>
    /// <exception cref="InvalidOperationException">The queue has no room for them.</exception>
    public Task<BatchResult> SubmitAsync(float[] inputs, int count, CancellationToken cancellationToken = default) =>
        TrySubmit(inputs, count, cancellationToken, out Task<BatchResult> result) ? result : throw new InvalidOperationException($"The batch queue is full ({_maxQueuedImages} images).");

    /// <summary>
    /// Queues the images unless the queue has no room for them (an empty queue always takes a request,
    /// however large, so that it can run alone); <paramref name="result"/> completes with their outputs.
    /// </summary>
    public bool TrySubmit(float[] inputs, int count, CancellationToken cancellationToken, out Task<BatchResult> result)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (inputs.Length < (long)count * _model.InputShape.Size)
            throw new ArgumentException($"{count} images need {count * _model.InputShape.Size} values; got {inputs.Length}.", nameof(inputs));

        if (TryRunAlone(inputs, count, cancellationToken, out result)) return true;

        int queued = Interlocked.Add(ref _queuedImages, count);
        if (queued > _maxQueuedImages && queued != count)
        {
            Interlocked.Add(ref _queuedImages, -count);
            result = null!;
            return false;
        }

        var pending = new Pending(inputs, count, cancellationToken);
        Interlocked.Increment(ref _queued);
        // Registered before the worker can see the request; a token canceled already takes it out at once.
        if (cancellationToken.CanBeCanceled)
            pending.Registration = cancellationToken.Register(static state => { var (batcher, p) = ((DynamicBatcher, Pending))state!; batcher.Cancel(p); }, (this, pending));
        if (!_queue.Writer.TryWrite(pending))
        {
            pending.Registration.Dispose();
            if (pending.TryClaim(Pending.Canceled)) Leave(pending);
            throw new ObjectDisposedException(nameof(DynamicBatcher), "This model version is no longer served.");
        }

        result = pending.Result.Task;
        return true;
    }

    /// <summary>
    /// Runs the request on the caller's thread when nothing is queued and no pass is running (and batching has no delay,
    /// which asks the first request to wait for company). <see cref="SemaphoreSlim.Release()"/> hands the pass to a waiting
    /// worker before any caller can take it, so a queued batch is never overtaken twice.
    /// </summary>
    private bool TryRunAlone(float[] inputs, int count, CancellationToken cancellationToken, out Task<BatchResult> result)
    {
        result = null!;
        if (_maxDelayTicks != 0 || _completed || BeforeForward is not null || cancellationToken.IsCancellationRequested
            || Volatile.Read(ref _queued) != 0 || !_pass.Wait(0))
            return false;
        try
        {
            var outputs = new float[count * _model.OutputShape.Size];
            long started = Stopwatch.GetTimestamp();
            _model.Forward(inputs.AsSpan(0, count * _model.InputShape.Size), outputs, count);
            TimeSpan computed = Stopwatch.GetElapsedTime(started);
            _onBatch?.Invoke(count);
            result = Task.FromResult(new BatchResult(outputs, count, TimeSpan.Zero, computed));
        }
        catch (Exception e)
        {
            result = Task.FromException<BatchResult>(e);
        }
        finally
        {
            _pass.Release();
        }

        return true;
    }

    /// <summary>A canceled request leaves the queue now, not when the worker reaches it, and never runs.</summary>
    private void Cancel(Pending pending)
    {
        if (!pending.TryClaim(Pending.Canceled)) return;
        Leave(pending);
        pending.Result.TrySetCanceled(pending.Cancellation);
    }

    private void Leave(Pending pending)
    {
        Interlocked.Decrement(ref _queued);
        Interlocked.Add(ref _queuedImages, -pending.Count);
    }

    /// <summary>Accepts no more requests; the ones queued still run.</summary>
    public void Complete()
    {
        _completed = true;
        _queue.Writer.TryComplete();
    }

    private async Task RunAsync()
    {
        ChannelReader<Pending> reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            int images = await CollectAsync(reader).ConfigureAwait(false);
            if (images > 0 && BeforeForward is { } hold) await hold().ConfigureAwait(false);
            if (images > 0)
            {
                await _pass.WaitAsync().ConfigureAwait(false);
                try
                {
                    Run(images);
                }
                finally
                {
                    _pass.Release();
                }
            }

            _batch.Clear();
        }
    }

    /// <summary>Fills <see cref="_batch"/>; returns its image count (0 when every taken request was already canceled).</summary>
    private async Task<int> CollectAsync(ChannelReader<Pending> reader)
    {
        int images = 0;
        long deadline = Stopwatch.GetTimestamp() + _maxDelayTicks;
        while (true)
        {
            while (reader.TryPeek(out Pending? next))
            {
                if (images > 0 && images + next.Count > _maxBatch) return images;
                reader.TryRead(out _);
                if (!next.TryClaim(Pending.Taken)) continue;  // canceled while queued: already left the queue
                next.Registration.Dispose();
                Leave(next);

                _batch.Add(next);
                images += next.Count;
                if (images >= _maxBatch) return images;
            }

            long remaining = deadline - Stopwatch.GetTimestamp();
            if (images == 0 || remaining <= 0) return images;
            using var timeout = new CancellationTokenSource(TimeSpan.FromTicks(remaining * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
            try
            {
                if (!await reader.WaitToReadAsync(timeout.Token).ConfigureAwait(false)) return images;
            }
            catch (OperationCanceledException)
            {
                return images;
            }
        }
    }

    private void Run(int images)
    {
        int inSize = _model.InputShape.Size, outSize = _model.OutputShape.Size;
        try
        {
            ReadOnlySpan<float> input;
            if (_batch.Count == 1)
            {
                input = _batch[0].Inputs.AsSpan(0, images * inSize);
            }
            else
            {
                if (_inputs.Length < images * inSize) _inputs = new float[Math.Max(images, _maxBatch) * inSize];
                int offset = 0;
                foreach (Pending p in _batch)
                {
                    p.Inputs.AsSpan(0, p.Count * inSize).CopyTo(_inputs.AsSpan(offset));
                    offset += p.Count * inSize;
                }

                input = _inputs.AsSpan(0, images * inSize);
            }

            if (_outputs.Length < images * outSize) _outputs = new float[Math.Max(images, _maxBatch) * outSize];
            long started = Stopwatch.GetTimestamp();
            _model.Forward(input, _outputs.AsSpan(0, images * outSize), images);
            TimeSpan computed = Stopwatch.GetElapsedTime(started);
            _onBatch?.Invoke(images);

            int start = 0;
            foreach (Pending p in _batch)
            {
                TimeSpan queued = Stopwatch.GetElapsedTime(p.Enqueued, started);
                p.Result.TrySetResult(new BatchResult(_outputs.AsSpan(start, p.Count * outSize).ToArray(), images, queued, computed));
                start += p.Count * outSize;
            }
        }
        catch (Exception e)
        {
            foreach (Pending p in _batch) p.Result.TrySetException(e);
        }
    }

    private sealed class Pending(float[] inputs, int count, CancellationToken cancellation)
    {
        public const int Queued = 0, Taken = 1, Canceled = 2;
        private int _state;

        public float[] Inputs { get; } = inputs;
        public int Count { get; } = count;
        public CancellationToken Cancellation { get; } = cancellation;
        public long Enqueued { get; } = Stopwatch.GetTimestamp();
        public TaskCompletionSource<BatchResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public CancellationTokenRegistration Registration { get; set; }

        /// <summary>Moves a queued request to <paramref name="state"/>; false when the worker or its cancellation got there first.</summary>
        public bool TryClaim(int state) => Interlocked.CompareExchange(ref _state, state, Queued) == Queued;
    }
}
