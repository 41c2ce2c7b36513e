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
/// </summary>
public sealed class DynamicBatcher
{
    private readonly Model _model;
    private readonly int _maxBatch;
    private readonly long _maxDelayTicks;
    private readonly Action<int>? _onBatch;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly List<Pending> _batch = [];
    private float[] _inputs = [], _outputs = [];
    private int _queued;

    /// <param name="onBatch">Told the size of every batch run (the metrics' histogram).</param>
    public DynamicBatcher(Model model, BatchingOptions options, Action<int>? onBatch = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxBatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxDelayMilliseconds);
        _model = model;
        _maxBatch = options.MaxBatchSize;
        _maxDelayTicks = (long)(options.MaxDelayMilliseconds * Stopwatch.Frequency / 1000);
        _onBatch = onBatch;
        Completion = Task.Run(RunAsync);
    }

    /// <summary>Finishes when the batcher is completed and its queue drained.</summary>
    public Task Completion { get; }

    /// <summary>Requests waiting for a batch.</summary>
    public int QueueLength => Volatile.Read(ref _queued);

    /// <summary>Queues <paramref name="count"/> normalised images ([count, C, H, W] in <paramref name="inputs"/>) and returns their outputs.</summary>
    public Task<BatchResult> SubmitAsync(float[] inputs, int count, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (inputs.Length < (long)count * _model.InputShape.Size)
            throw new ArgumentException($"{count} images need {count * _model.InputShape.Size} values; got {inputs.Length}.", nameof(inputs));

        var pending = new Pending(inputs, count, cancellationToken);
        Interlocked.Increment(ref _queued);
        if (!_queue.Writer.TryWrite(pending))
        {
            Interlocked.Decrement(ref _queued);
            throw new ObjectDisposedException(nameof(DynamicBatcher), "This model version is no longer served.");
        }

        return pending.Result.Task;
    }

    /// <summary>Accepts no more requests; the ones queued still run.</summary>
    public void Complete() => _queue.Writer.TryComplete();

    private async Task RunAsync()
    {
        ChannelReader<Pending> reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            int images = await CollectAsync(reader).ConfigureAwait(false);
            if (images > 0) Run(images);
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
                Interlocked.Decrement(ref _queued);
                if (next.Cancellation.IsCancellationRequested)
                {
                    next.Result.TrySetCanceled(next.Cancellation);
                    continue;
                }

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
            _model.Forward(input, _outputs.AsSpan(0, images * outSize), images);
            _onBatch?.Invoke(images);

            int start = 0;
            foreach (Pending p in _batch)
            {
                p.Result.TrySetResult(new BatchResult(_outputs.AsSpan(start, p.Count * outSize).ToArray(), images));
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
        public float[] Inputs { get; } = inputs;
        public int Count { get; } = count;
        public CancellationToken Cancellation { get; } = cancellation;
        public TaskCompletionSource<BatchResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
