using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Training;

/// <summary>
/// A model spec made trainable: its layers in training form, one activation and one gradient
/// buffer per layer boundary (allocated once for the largest batch), and the step that runs
/// forward, the fused softmax cross-entropy and backward. A final softmax layer is not run in
/// training: the loss takes the logits before it, as PyTorch's CrossEntropyLoss does; a network
/// without one is trained on its outputs as logits. Not thread-safe: one trainer owns it.
/// </summary>
public sealed class TrainNetwork
{
    private readonly TrainLayer[] _layers;
    private readonly float[][] _activations;
    private readonly float[][] _gradients;
    private readonly TrainContext _ctx;

    private TrainNetwork(ModelSpec spec, TrainLayer[] layers, int maxBatch, TrainContext ctx)
    {
        Spec = spec;
        _layers = layers;
        _ctx = ctx;
        MaxBatch = maxBatch;
        InputShape = new TensorShape(spec.Input.Channels, spec.Input.Height, spec.Input.Width);
        Classes = layers.Length > 0 ? layers[^1].OutputShape.Size : InputShape.Size;
        _activations = new float[layers.Length + 1][];
        _gradients = new float[layers.Length + 1][];
        _activations[0] = new float[maxBatch * InputShape.Size];
        for (int i = 0; i < layers.Length; i++)
        {
            _activations[i + 1] = new float[maxBatch * layers[i].OutputShape.Size];
            _gradients[i + 1] = new float[maxBatch * layers[i].OutputShape.Size];
        }

        _gradients[0] = [];
        Parameters = layers.SelectMany(l => l.Parameters).ToArray();
    }

    public ModelSpec Spec { get; }
    public int MaxBatch { get; }
    public TensorShape InputShape { get; }
    /// <summary>Outputs per image (the logits the loss reads).</summary>
    public int Classes { get; }
    public IReadOnlyList<TrainLayer> Layers => _layers;
    /// <summary>Every tensor the network owns, in layer order: the optimizer updates the trainable ones.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }
    public long ParameterCount => Parameters.Sum(p => (long)p.Length);

    /// <summary>Training needs at least two values per channel somewhere (batchnorm on a [C,1,1] input): a last batch of one image is then skipped.</summary>
    public bool NeedsTwoImages => _layers.Any(l => l.Type == "batchnorm" && l.InputShape.H * l.InputShape.W == 1);

    /// <summary>
    /// Builds the network for <paramref name="spec"/>, starting from <paramref name="weights"/>
    /// (every tensor must be used). The spec is planned as an inference model first, so it is
    /// validated exactly as loading it would be, and each planned layer gives its training form: the
    /// model's plan decides which ReLUs run inside the layer before them, for both. No batchnorm is
    /// folded into a convolution: training updates both.
    /// </summary>
    public static TrainNetwork Create(ModelSpec spec, WeightSet weights, int maxBatch, EngineOptions? options = null)
    {
        options ??= EngineOptions.Default;
        if (maxBatch < 1) throw new ArgumentOutOfRangeException(nameof(maxBatch), "The batch must hold at least one image.");
        Model model = Model.Create(spec, weights, options, foldBatchNorms: false);

        int count = spec.Layers[^1].Type == "softmax" ? spec.Layers.Count - 1 : spec.Layers.Count;
        var layers = new List<TrainLayer>(count);
        // Every trainable op reads one tensor, and a graph of such ops whose every branch leads to the output
        // (the plan has checked that) is a chain: each layer reads the one before it, as the buffers below assume.
        for (int i = 0; i < count; i++)
        {
            if (model.IsFusedAway(i)) continue;
            layers.Add(model.Layers[i].ForTraining(new TrainSetup($"model.json: {spec.Layers[i].Describe(i)}", i, weights, maxBatch, options.Threads)));
        }

        return new TrainNetwork(spec, layers.ToArray(), maxBatch, new TrainContext(options.Threads, options.Simd));
    }

    /// <summary>The input buffer of the next step: [MaxBatch, C, H, W], normalised values.</summary>
    public Span<float> Input => _activations[0];

    /// <summary>
    /// One training step on the first <paramref name="labels"/>.Length images of <see cref="Input"/>:
    /// forward in training mode, the loss, and backward, leaving every parameter's gradient.
    /// Returns the mean loss; <paramref name="correct"/> counts the images already classified right.
    /// </summary>
    public double Step(ReadOnlySpan<int> labels, ulong stepSeed, out int correct)
    {
        int batch = CheckBatch(labels.Length);
        _ctx.Batch = batch;
        _ctx.Training = true;
        _ctx.StepSeed = stepSeed;
        RunForward();

        float[] logits = _activations[^1];
        float[] dLogits = _gradients[^1];
        double loss = SoftmaxCrossEntropy.Compute(logits.AsSpan(0, batch * Classes), labels, Classes, dLogits, out correct);
        for (int i = _layers.Length - 1; i >= 0; i--)
            _layers[i].Backward(_ctx, _activations[i], _activations[i + 1], _gradients[i + 1], i == 0 ? null : _gradients[i]);
        return loss;
    }

    /// <summary>Forward in inference mode (dropout off, batchnorm on running statistics); returns the logits of <paramref name="batch"/> images.</summary>
    public ReadOnlySpan<float> Evaluate(int batch)
    {
        _ctx.Batch = CheckBatch(batch);
        _ctx.Training = false;
        RunForward();
        return _activations[^1].AsSpan(0, batch * Classes);
    }

    /// <summary>The weights as the inference loader names and shapes them, ready for weights.safetensors.</summary>
    public List<NamedTensor> ExportTensors() =>
        Parameters.Select(p => new NamedTensor(p.Name, (int[])p.Shape.Clone(), (float[])p.Value.Clone())).ToList();

    private void RunForward()
    {
        for (int i = 0; i < _layers.Length; i++) _layers[i].Forward(_ctx, _activations[i], _activations[i + 1]);
    }

    private int CheckBatch(int batch) =>
        batch >= 1 && batch <= MaxBatch ? batch : throw new ArgumentOutOfRangeException(nameof(batch), $"The batch must hold 1 to {MaxBatch} images, got {batch}.");
}
