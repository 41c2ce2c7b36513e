using CnnService.Engine.Format;
using CnnService.Engine.Layers;

namespace CnnService.Engine.Runtime;

/// <summary>
/// A loaded network, immutable and safe to run from any number of threads at once. Built once:
/// each layer planned for its input shapes with its weights packed, a batchnorm that is the only
/// reader of a conv2d folded into its weights, a ReLU that is the only reader of a conv2d or dense
/// layer (or of such a batchnorm) fused into it, and a <see cref="GraphPlan"/> that places
/// every tensor in one arena by lifetime. A forward pass rents a workspace and runs the plan.
/// A large batch is split across threads once, each share running the whole plan on one thread
/// (one rendezvous per pass instead of one per layer); a small batch splits each layer instead.
/// </summary>
public sealed unsafe partial class Model : IParallelWork
{
    /// <summary>
    /// Images per thread from which the batch, not each layer, is split; a share's batch-dependent kernels choose by the
    /// whole batch (<see cref="ParallelJob.WholeBatch"/>), so it computes the bits the whole batch would. Each share
    /// runs every layer on its own core with no rendezvous between layers, where small layers split poorly: at batch 8
    /// and 12 on two threads (AMD EPYC Zen 5, paired in one process) TinyVGG ran 1.46-1.53x as fast as with 8 images a
    /// share (each layer split), LeNet-5 1.17-1.23x, Keras MNIST 1.04-1.06x, squeezenet1_1 1.05-1.07x, mobilenet_v2
    /// 1.02-1.03x, resnet18 1.01-1.04x, efficientnet_b0 0.98x; and a layer split slows with the host's noisy minutes,
    /// where a share runs on: one round of mobilenet_v2 took 24.2 ms split by layers and 15.0 by shares.
    /// </summary>
    private const int MinImagesPerShare = 4;

    /// <summary>Largest activation of one image, in floats (1 GiB): a hostile spec cannot ask for more.</summary>
    internal const long MaxActivationFloats = 1L << 28;

    private readonly Layer[] _layers;

    /// <summary>The layers the plan runs, indexed as <see cref="_layers"/>: the same, but for a convolution with a batchnorm folded into it.</summary>
    private readonly Layer[] _runs;
    private readonly int[][] _inputs;
    private readonly bool[] _fusedAway;
    private readonly GraphPlan _plan;

    /// <summary>The same steps with runs of layers taking a chunk of images at a time (<see cref="BatchChunking"/>);
    /// null when no run can be chunked or <see cref="EngineOptions.ChunkBatches"/> is off.</summary>
    private readonly GraphPlan? _chunked;

    /// <summary>The plan of a pass of one image when it differs: concats written in place by the layers that make their parts.</summary>
    private readonly GraphPlan? _single;
    private readonly WorkspacePool _workspaces = new();

    /// <param name="planInputs">What each layer reads in a pass: <paramref name="inputs"/>, but for layers that read a fused
    /// layer's inputs too (<see cref="FuseGates"/>) or instead (<see cref="FuseExpansions"/>).</param>
    private Model(ModelSpec spec, Layer[] layers, Layer[] runs, int[][] inputs, int[][] planInputs, bool[] fusedAway, EngineOptions options,
        IReadOnlyDictionary<int, LoweringChoice> measured)
    {
        Spec = spec;
        MeasuredPlan = measured;
        Options = options;
        _layers = layers;
        _runs = runs;
        _inputs = inputs;
        _fusedAway = fusedAway;
        InputShape = new TensorShape(spec.Input.Channels, spec.Input.Height, spec.Input.Width);
        OutputShape = layers[^1].OutputShape;

        _plan = GraphPlan.Create(runs, planInputs, fusedAway);
        GraphPlan single = GraphPlan.Create(runs, planInputs, fusedAway, elideConcats: true);
        if (single.Steps.Length < _plan.Steps.Length) _single = single;
        GraphPlan chunked = GraphPlan.Create(runs, planInputs, fusedAway, chunked: true, options.ChunkImages);
        if (options.ChunkBatches && chunked.Segments.Any(s => s.ChunkImages > 0)) _chunked = chunked;
    }

    /// <summary>The plan a pass of <paramref name="batch"/> images runs: chunked, unless that would need a larger arena
    /// than running each layer over the whole batch (chunks only move tensors into a smaller region, but a tensor that
    /// crosses a chunked run lives through all of it).
    /// A batch no larger than every run's chunk takes the whole-batch plan without asking: it computes the same.</summary>
    private GraphPlan PlanFor(int batch)
    {
        if (batch == 1) return _single ?? _plan;
        if (_chunked is not { } chunked || batch <= chunked.SmallestChunk) return _plan;
        if (batch < _chunkedFor.Length && _chunkedFor[batch] != 0) return _chunkedFor[batch] == 2 ? chunked : _plan;
        bool useChunked = chunked.ArenaFloats(batch) <= _plan.ArenaFloats(batch);
        if (batch < _chunkedFor.Length) _chunkedFor[batch] = useChunked ? (byte)2 : (byte)1;
        return useChunked ? chunked : _plan;
    }

    /// <summary><see cref="PlanFor"/>'s choice by batch size, remembered so a pass does not weigh both arenas again: 0 not yet
    /// asked, 1 the whole-batch plan, 2 the chunked one. Bytes, written without a lock: every thread computes the same answer.</summary>
    private readonly byte[] _chunkedFor = new byte[257];

    /// <summary>
    /// Images per chunk that layer <paramref name="index"/> (of <see cref="Layers"/>) takes at a time in a pass of
    /// <paramref name="batch"/> images on one thread: the batch, for a layer run over all of it. A batch split
    /// across threads is chunked within each thread's share.
    /// </summary>
    public int ImagesPerChunk(int index, int batch)
    {
        GraphPlan plan = PlanFor(batch);
        foreach (var segment in plan.Segments)
            for (int s = segment.First; s < segment.End; s++)
                if (ReferenceEquals(plan.Steps[s].Layer, _runs[index])) return segment.Images(batch);
        return batch;
    }

    /// <summary>The tensor a fused layer stands for: the output of the layer it runs inside (through a folded batchnorm and the ReLU after it).</summary>
    private int Producer(int tensor) => Producer(tensor, _inputs, _fusedAway);

    private static int Producer(int tensor, int[][] inputs, bool[] fusedAway) => tensor > 0 && fusedAway[tensor - 1] ? Producer(inputs[tensor - 1][0], inputs, fusedAway) : tensor;

    /// <summary>A convolution whose output only a zero-padded convolution reads writes it already padded, if it can.</summary>
    private static void PlanPaddedOutputs(Layer[] runs, int[][] inputs, bool[] fusedAway)
    {
        int[] readers = CountReaders(inputs, runs.Length, fusedAway);
        for (int i = 0; i < runs.Length; i++)
        {
            if (runs[i] is not Conv2D next || fusedAway[i]) continue;
            int t = Producer(inputs[i][0], inputs, fusedAway);
            if (t > 0 && t < runs.Length && runs[t - 1] is Conv2D conv && readers[t] == 1) conv.PlanPaddedOutputFor(next);
        }
    }

    /// <summary>How many layers that run read each tensor, counting a fused ReLU's readers as its producer's; the model's output counts as a reader.</summary>
    private static int[] CountReaders(int[][] inputs, int n, bool[] fusedAway)
    {
        var readers = new int[n + 1];
        readers[n]++;
        for (int i = n - 1; i >= 0; i--)
        {
            if (fusedAway[i])
            {
                readers[inputs[i][0]] += readers[i + 1];
                continue;
            }

            foreach (int t in inputs[i]) readers[t]++;
        }

        return readers;
    }

    public ModelSpec Spec { get; }
    public EngineOptions Options { get; }
    public TensorShape InputShape { get; }
    public TensorShape OutputShape { get; }

    /// <summary>The input tensor's name clients address it by (<see cref="ModelSpec.InputName"/>).</summary>
    public string InputName => Spec.InputName;

    /// <summary>The output tensor's name (<see cref="ModelSpec.OutputName"/>).</summary>
    public string OutputName => Spec.OutputName;
    /// <summary>The layers as written: a convolution with a batchnorm folded into it keeps its own weights here (filters, parameters and
    /// <see cref="Trace"/> show them), while the forward pass runs a folded copy.</summary>
    public IReadOnlyList<Layer> Layers => _layers;

    /// <summary>The layer a pass runs for layer <paramref name="index"/>: itself, or the copy with a batchnorm folded into it
    /// (which carries what the plan fused into it: a gate, an expansion run in bands).</summary>
    public Layer RunningLayer(int index) => _runs[index];

    /// <summary>The layers layer <paramref name="index"/> reads, by index into <see cref="Layers"/>; -1 is the model's input.</summary>
    public IReadOnlyList<int> InputsOf(int index) => _inputs[index].Select(t => t - 1).ToArray();

    /// <summary>True for a layer that runs inside another rather than on its own: a ReLU in the GEMM store of the layer
    /// before it, a batchnorm folded into the weights of the convolution it reads (and a ReLU after that batchnorm),
    /// a sigmoid in the mul that makes it SiLU, an activation in a depthwise convolution next to it, a 1x1 expansion run in
    /// bands by the depthwise convolution after it.</summary>
    public bool IsFusedAway(int index) => _fusedAway[index];
    public IReadOnlyList<string> Labels => Spec.Labels;
    public long Parameters => _layers.Sum(l => l.Parameters);
    public long FlopsPerImage => _layers.Sum(l => l.FlopsPerImage);

    /// <summary>Plans every layer of <paramref name="spec"/> and takes its tensors from <paramref name="weights"/>; every tensor must be used.</summary>
    public static Model Create(ModelSpec spec, IWeightSource weights, EngineOptions? options = null) => Create(spec, weights, options, foldBatchNorms: true);

    /// <summary>As the public <see cref="Create(ModelSpec, IWeightSource, EngineOptions?)"/>; without <paramref name="foldBatchNorms"/>
    /// every batchnorm stays a layer that runs, as training needs (it updates its own statistics and weights), and so does a clip
    /// after a convolution (a convolution trains with its ReLU only).</summary>
    internal static Model Create(ModelSpec spec, IWeightSource weights, EngineOptions? options, bool foldBatchNorms)
    {
        options ??= EngineOptions.Default;
        if (options.Threads < 1) throw new ArgumentOutOfRangeException(nameof(options), "Threads must be at least 1.");
        if (!Simd.IsSupported(options.Simd)) throw new PlatformNotSupportedException($"{options.Simd} is not accelerated on this CPU.");

        int n = spec.Layers.Count;
        if (n == 0) throw new ModelFormatException("model.json: a model needs at least one layer.");
        int[][] inputs = ResolveInputs(spec);
        int[] readers = CountReaders(inputs, n, new bool[n]);
        bool[] folded = foldBatchNorms ? FoldableBatchNorms(spec, inputs, readers) : new bool[n];
        var fuse = new bool[n];
        for (int i = 0; i < n; i++)
        {
            // A ReLU that is the only reader of a conv2d or dense output runs in that layer's store; so does one that is the only
            // reader of a batchnorm folded into a conv2d.
            int t = inputs[i][0];
            if (spec.Layers[i].Type != "relu" || t == 0 || readers[t] != 1) continue;
            if (folded[t - 1]) t = inputs[t - 1][0];
            if (spec.Layers[t - 1].Type is "conv2d" or "dense") fuse[t - 1] = true;
        }

        // A convolution as written with a batchnorm folded into it runs only in a trace, where nothing is fused.
        var foldTarget = new bool[n];
        var remembered = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
        {
            if (!folded[i]) continue;
            LayerSpec conv = spec.Layers[inputs[i][0] - 1];
            foldTarget[inputs[i][0] - 1] = true;
            remembered.UnionWith([$"{conv.Name}.weight", $"{conv.Name}.bias"]);
        }

        var shapes = new TensorShape[n + 1];
        shapes[0] = new TensorShape(spec.Input.Channels, spec.Input.Height, spec.Input.Width);
        var taken = new TakenWeights(weights, remembered);
        var layers = new Layer[n];
        var runs = new Layer[n];
        var fusedAway = new bool[n];
        for (int i = 0; i < n; i++)
        {
            LayerSpec layer = spec.Layers[i];
            TensorShape[] inShapes = inputs[i].Select(t => shapes[t]).ToArray();
            int t = inputs[i][0];
            runs[i] = layers[i] = LayerFactory.Create(layer, i, inShapes, taken, options.Simd, fuse[i] && !foldTarget[i], Forced(options, i));
            TensorShape shape = shapes[i + 1] = layers[i].OutputShape;
            if ((long)shape.C * shape.H * shape.W > MaxActivationFloats)
                throw new ModelFormatException($"model.json: {layer.Describe(i)}: output {shape} is larger than {MaxActivationFloats:N0} values per image.");
            if (folded[i])
            {
                // The convolution runs again with this batchnorm in its weights; the layer as written stays for Layers and Trace.
                int c = t - 1;
                runs[c] = FoldBatchNorm(spec.Layers[c], c, shapes[inputs[c][0]], (BatchNorm)layers[i], taken, options.Simd, fuse[c], Forced(options, c));
                fusedAway[i] = true;
                continue;
            }

            int p = t > 0 && folded[t - 1] ? inputs[t - 1][0] : t;
            fusedAway[i] = layer.Type == "relu" && p > 0 && fuse[p - 1] && runs[p - 1] is IConvolution { FusedRelu: true } or Dense { FusedRelu: true };
        }

        FuseActivations(runs, inputs, fusedAway, intoConvolutions: foldBatchNorms);
        if (foldBatchNorms) FusePools(runs, inputs, fusedAway);
        int[][] planInputs = foldBatchNorms ? FuseGates(runs, inputs, fusedAway) : inputs;
        if (foldBatchNorms) FuseExpansions(runs, fusedAway, planInputs);
        PlanPaddedOutputs(runs, inputs, fusedAway);

        // Measured once the fused plan stands: a convolution that is part of a fusion keeps the lowering that fusion needs.
        IReadOnlyDictionary<int, LoweringChoice> measured = NoMeasurements;
        if (options.Plan == PlanMode.Measure)
        {
            // Each layer is timed on what it reads in a pass of an image-like input: the lowerings meet its zeros and
            // subnormals (SiLU's products) as they will when serving; random values have neither.
            Func<int, float[]>? inputOf = null;
            if (options.PlanTimer is null)
            {
                float[] image = PlanMeasurement.ImageLike(shapes[0].Size);
                float[][] traced = new Model(spec, layers, runs, inputs, planInputs, fusedAway, options, NoMeasurements).Trace(image);
                inputOf = i => inputs[i][0] == 0 ? image : traced[inputs[i][0] - 1];
            }

            measured = PlanMeasurement.Choose(runs, layers, fusedAway, options, inputOf);
        }

        weights.EnsureAllTaken();
        if (spec.Labels.Count > 0 && spec.Labels.Count != shapes[n].Size)
            throw new ModelFormatException($"model.json: {spec.Labels.Count} labels, but the network outputs {shapes[n].Size} values per image.");
        return new Model(spec, layers, runs, inputs, planInputs, fusedAway, options, measured);
    }

    private static readonly IReadOnlyDictionary<int, LoweringChoice> NoMeasurements = new Dictionary<int, LoweringChoice>();

    /// <summary>The lowering <see cref="EngineOptions.Lowerings"/> forces on layer <paramref name="index"/>, if any.</summary>
    private static ConvLowering? Forced(EngineOptions options, int index) =>
        options.Lowerings is { } forced && forced.TryGetValue(index, out ConvLowering lowering) ? lowering : null;

    /// <summary>What a measured plan (<see cref="PlanMode.Measure"/>) timed and chose, by layer index: the convolutions that more
    /// than one lowering could run. Empty for a fixed plan.</summary>
    public IReadOnlyDictionary<int, LoweringChoice> MeasuredPlan { get; }

    /// <summary>Each layer's inputs as tensor ids (0: the model's input; i + 1: layer i's output). A layer that names
    /// none reads the one before it. Every layer must lead to the output: a branch that goes nowhere is a mistake.</summary>
    private static int[][] ResolveInputs(ModelSpec spec)
    {
        int n = spec.Layers.Count;
        var byName = new Dictionary<string, int>(StringComparer.Ordinal) { [LayerSpec.ModelInput] = 0 };
        var inputs = new int[n][];
        for (int i = 0; i < n; i++)
        {
            LayerSpec layer = spec.Layers[i];
            inputs[i] = layer.Inputs is { } names
                ? names.Select(name => byName.TryGetValue(name, out int t) ? t
                    : throw new ModelFormatException($"model.json: {layer.Describe(i)}: input \"{name}\" is not an earlier layer or \"{LayerSpec.ModelInput}\".")).ToArray()
                : [i];
            if (layer.Name is not null) byName[layer.Name] = i + 1;
        }

        var used = new bool[n + 1];
        used[n] = true;
        for (int i = n - 1; i >= 0; i--)
        {
            if (!used[i + 1])
                throw new ModelFormatException($"model.json: {spec.Layers[i].Describe(i)}: its output is never used (the model's output is the last layer's).");
            foreach (int t in inputs[i]) used[t] = true;
        }

        return inputs;
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
            Run(ws, job.Input + (nint)start * InputShape.Size, job.Output + (nint)start * OutputShape.Size, end - start, threads: 1, wholeBatch: job.Batch);
        }
        finally
        {
            _workspaces.Return(ws);
        }
    }

    /// <summary>
    /// Runs the plan's segments in order: a whole-batch segment is one step over every image; a chunked one takes
    /// a chunk of images through all its steps before the next chunk. The layout is image-major, so a chunk of a
    /// batch-region tensor is the contiguous run of images from its start; a chunk-region tensor holds one chunk.
    /// <paramref name="times"/>, when given, gathers each step's time over all its chunks (<see cref="ProfileLayers"/>).
    /// <paramref name="wholeBatch"/> is the batch this one is a share of (0: none; <see cref="ParallelJob.WholeBatch"/>).
    /// </summary>
    private void Run(Workspace ws, float* input, float* output, int batch, int threads, StepTimes? times = null, int wholeBatch = 0)
    {
        GraphPlan plan = PlanFor(batch);
        long activations = batch * plan.ArenaFloatsPerImage, local = plan.LocalFloats(batch);
        float* arena = ws.Ensure(activations + local + plan.ScratchFloats(batch));
        float* chunkArena = arena + activations;

        ParallelJob job = ws.Job;
        if (job.Inputs.Length < plan.MaxInputs) job.Inputs = new nint[plan.MaxInputs];
        job.WholeBatch = wholeBatch;
        foreach (var segment in plan.Segments)
        {
            int images = segment.Images(batch);
            for (int start = 0; start < batch; start += images)
            {
                for (int s = segment.First; s < segment.End; s++)
                {
                    GraphPlan.Step step = plan.Steps[s];
                    for (int k = 0; k < step.Inputs.Length; k++) job.Inputs[k] = (nint)(Buffer(step.Inputs[k], start, images) + step.InputOffsets[k]);
                    job.Input = (float*)job.Inputs[0];
                    job.Output = Buffer(step.Output, start, images) + step.OutputOffset;
                    job.Batch = Math.Min(images, batch - start);
                    job.Scratch = chunkArena + local;
                    if (times is null)
                    {
                        step.Layer.Forward(job, threads);
                        continue;
                    }

                    times.Run(step.Layer, job, threads, s);
                }
            }
        }

        if (plan.ResultBuffer != GraphPlan.OutputBuffer)
        {
            long bytes = (long)batch * OutputShape.Size * sizeof(float);
            System.Buffer.MemoryCopy(Buffer(plan.ResultBuffer, 0, batch), output, bytes, bytes);
        }

        // Buffer b as the chunk of images from start sees it: its own images in a batch-region tensor, the region itself in the chunk region.
        float* Buffer(int b, int start, int images) => b switch
        {
            GraphPlan.InputBuffer => input + start * plan.Strides[b],
            GraphPlan.OutputBuffer => output + start * plan.Strides[b],
            _ when plan.Local[b] => chunkArena + images * plan.Offsets[b],
            _ => arena + batch * plan.Offsets[b] + start * plan.Strides[b],
        };
    }
}
