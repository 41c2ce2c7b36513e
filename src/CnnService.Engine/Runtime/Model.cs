using CnnService.Engine.Format;
using CnnService.Engine.Layers;

namespace CnnService.Engine.Runtime;

/// <summary>
/// A loaded network, immutable and safe to run from any number of threads at once. Built once:
/// each layer planned for its input shape with its weights packed, a ReLU that follows a conv2d
/// or dense layer fused into it. A forward pass rents a workspace, runs the plan between two
/// ping-pong buffers (in-place layers stay put) and copies the last activation out.
/// A large batch is split across threads once, each share running the whole plan on one thread
/// (one rendezvous per pass instead of one per layer); a small batch splits each layer instead.
/// </summary>
public sealed unsafe partial class Model : IParallelWork
{
    /// <summary>Images per thread from which the batch, not each layer, is split: enough for a full GEMM panel per share.</summary>
    private const int MinImagesPerShare = 8;

    /// <summary>Largest activation of one image, in floats (1 GiB): a hostile spec cannot ask for more.</summary>
    private const long MaxActivationFloats = 1L << 28;

    private readonly Layer[] _layers;
    private readonly Layer[] _plan;
    private readonly long _maxActivation;

    /// <summary>The plan step that writes the network's output: it writes straight into the caller's buffer, saving a copy.</summary>
    private readonly int _lastWriter;
    private readonly WorkspacePool _workspaces = new();

    private Model(ModelSpec spec, Layer[] layers, EngineOptions options)
    {
        Spec = spec;
        Options = options;
        _layers = layers;
        InputShape = new TensorShape(spec.Input.Channels, spec.Input.Height, spec.Input.Width);
        OutputShape = layers.Length > 0 ? layers[^1].OutputShape : InputShape;
        _plan = layers.Where((layer, i) => !(layer.Type == "relu" && i > 0 && IsFusedRelu(layers[i - 1]))).ToArray();

        // A convolution whose next step is a zero-padded convolution writes its output already padded, if it can.
        for (int step = 0; step + 1 < _plan.Length; step++)
        {
            if (_plan[step] is Conv2D conv && _plan[step + 1] is Conv2D next) conv.PlanPaddedOutputFor(next);
        }

        _maxActivation = layers.Select(l => l is Conv2D conv ? conv.OutputFloatsPerImage : l.OutputShape.Size).Append(InputShape.Size).Max();
        _lastWriter = Array.FindLastIndex(_plan, layer => !layer.InPlace);
    }

    public ModelSpec Spec { get; }
    public EngineOptions Options { get; }
    public TensorShape InputShape { get; }
    public TensorShape OutputShape { get; }
    public IReadOnlyList<Layer> Layers => _layers;
    public IReadOnlyList<string> Labels => Spec.Labels;
    public long Parameters => _layers.Sum(l => l.Parameters);
    public long FlopsPerImage => _layers.Sum(l => l.FlopsPerImage);

    /// <summary>Plans every layer of <paramref name="spec"/> and takes its tensors from <paramref name="weights"/>; every tensor must be used.</summary>
    public static Model Create(ModelSpec spec, IWeightSource weights, EngineOptions? options = null)
    {
        options ??= EngineOptions.Default;
        if (options.Threads < 1) throw new ArgumentOutOfRangeException(nameof(options), "Threads must be at least 1.");
        if (!Simd.IsSupported(options.Simd)) throw new PlatformNotSupportedException($"{options.Simd} is not accelerated on this CPU.");

        var shape = new TensorShape(spec.Input.Channels, spec.Input.Height, spec.Input.Width);
        var layers = new Layer[spec.Layers.Count];
        for (int i = 0; i < layers.Length; i++)
        {
            LayerSpec layer = spec.Layers[i];
            bool fuseRelu = layer.Type is "conv2d" or "dense" && i + 1 < layers.Length && spec.Layers[i + 1].Type == "relu";
            layers[i] = LayerFactory.Create(layer, i, shape, weights, options.Simd, fuseRelu);
            shape = layers[i].OutputShape;
            if ((long)shape.C * shape.H * shape.W > MaxActivationFloats)
                throw new ModelFormatException($"model.json: {layer.Describe(i)}: output {shape} is larger than {MaxActivationFloats:N0} values per image.");
        }

        weights.EnsureAllTaken();
        if (spec.Labels.Count > 0 && spec.Labels.Count != shape.Size)
            throw new ModelFormatException($"model.json: {spec.Labels.Count} labels, but the network outputs {shape.Size} values per image.");
        return new Model(spec, layers, options);
    }

    /// <summary>Runs <paramref name="batch"/> images [N, C, H, W] through the network into [N, outputs].</summary>
    public void Forward(ReadOnlySpan<float> input, Span<float> output, int batch)
    {
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), "Batch must be at least 1.");
        long inputLength = (long)batch * InputShape.Size, outputLength = (long)batch * OutputShape.Size;
        if (input.Length != inputLength) throw new ArgumentException($"Input has {input.Length} values; {batch} x {InputShape} needs {inputLength}.", nameof(input));
        if (output.Length != outputLength) throw new ArgumentException($"Output has {output.Length} values; {batch} x {OutputShape} needs {outputLength}.", nameof(output));
        if (input.Overlaps(output)) throw new ArgumentException("Input and output must not overlap.", nameof(output));

        Workspace ws = _workspaces.Rent();
        try
        {
            fixed (float* src = input, dst = output)
            {
                int shares = Math.Min(Options.Threads, batch / MinImagesPerShare);
                if (shares > 1)
                {
                    ParallelJob job = ws.Job;
                    job.Input = src;
                    job.Output = dst;
                    job.Batch = batch;
                    job.Run(this, shares, Options.Threads);
                }
                else
                {
                    Run(ws, src, dst, batch, Options.Threads);
                }
            }
        }
        finally
        {
            _workspaces.Return(ws);
        }
    }

    /// <summary>One share of a split batch, on one thread with its own workspace.</summary>
    void IParallelWork.RunChunk(ParallelJob job, int chunk)
    {
        (int start, int end) = Parallelism.Range(job.Batch, job.Chunks, chunk);
        Workspace ws = _workspaces.Rent();
        try
        {
            Run(ws, job.Input + (nint)start * InputShape.Size, job.Output + (nint)start * OutputShape.Size, end - start, threads: 1);
        }
        finally
        {
            _workspaces.Return(ws);
        }
    }

    private void Run(Workspace ws, float* input, float* output, int batch, int threads)
    {
        long activation = batch * _maxActivation, scratch = 0;
        foreach (Layer layer in _plan) scratch = Math.Max(scratch, layer.ScratchFloats(batch));
        float* arena = ws.Ensure(2 * activation + scratch);
        float* a = arena, b = arena + activation, current = input;

        ParallelJob job = ws.Job;
        for (int step = 0; step < _plan.Length; step++)
        {
            Layer layer = _plan[step];
            float* next;
            if (layer.InPlace)
            {
                // Never write into the caller's input.
                if (current == input)
                {
                    Buffer.MemoryCopy(input, a, activation * sizeof(float), (long)batch * layer.InputShape.Size * sizeof(float));
                    current = a;
                }

                next = current;
            }
            else
            {
                next = step == _lastWriter ? output : current == a ? b : a;
            }

            job.Input = current;
            job.Output = next;
            job.Batch = batch;
            job.Scratch = arena + 2 * activation;
            layer.Forward(job, threads);
            current = next;
        }

        if (current != output)
        {
            long bytes = (long)batch * OutputShape.Size * sizeof(float);
            Buffer.MemoryCopy(current, output, bytes, bytes);
        }
    }

    private static bool IsFusedRelu(Layer layer) => layer is Conv2D { FusedRelu: true } or Dense { FusedRelu: true };
}
