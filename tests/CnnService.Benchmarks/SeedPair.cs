using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using Microsoft.ML.OnnxRuntime;
using static CnnService.Benchmarks.Timing;

namespace CnnService.Benchmarks;

/// <summary>
/// One network in both runtimes at one thread count: the engine's model (seed-1 weights) and an ONNX Runtime
/// session of the file exported from the same spec and seed, with seeded input and preallocated outputs for
/// batch <see cref="SeedComparison.Batch"/> and batch 1. ONNX Runtime writes into bound output tensors, so
/// neither side allocates per call.
/// </summary>
internal sealed class SeedPair : IDisposable
{
    /// <summary>A figure for each runtime (images/s or seconds per call) and each one's fastest call, in seconds.</summary>
    public readonly record struct Measured(double Engine, double Ort, double EngineFastest, double OrtFastest);

    private readonly Model _model;
    private readonly SessionOptions _options;
    private readonly InferenceSession _session;
    private readonly RunOptions _run = new();
    private readonly string[] _inputNames, _outputNames;
    private readonly float[] _input, _input1, _engineOut, _engineOut1, _ortOut, _ortOut1;
    private readonly OrtValue _ortIn, _ortIn1, _ortOutValue, _ortOutValue1;
    private readonly OrtValue[] _ortIns, _ortIns1, _ortOuts, _ortOuts1; // made once: Run takes collections

    public SeedPair(ModelSpec spec, string onnxFile, int threads, SimdLevel simd)
    {
        _model = Model.Create(spec, WeightInitializer.Initialize(spec, seed: 1), EngineOptions.Default with { Threads = threads, Simd = simd });
        _options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        _session = new InferenceSession(onnxFile, _options);
        _inputNames = [_model.InputName];
        _outputNames = [_model.OutputName];

        int inSize = _model.InputShape.Size, outSize = _model.OutputShape.Size, batch = SeedComparison.Batch;
        var random = new Random(2);
        _input = new float[batch * inSize];
        for (int i = 0; i < _input.Length; i++) _input[i] = (float)(random.NextDouble() * 2 - 1);
        _input1 = _input[..inSize];
        _engineOut = new float[batch * outSize];
        _engineOut1 = new float[outSize];
        _ortOut = new float[batch * outSize];
        _ortOut1 = new float[outSize];

        TensorShape i4 = _model.InputShape, o = _model.OutputShape;
        long[] inShape = [batch, i4.C, i4.H, i4.W], inShape1 = [1, i4.C, i4.H, i4.W];
        _ortIn = OrtValue.CreateTensorValueFromMemory(_input, inShape);
        _ortIn1 = OrtValue.CreateTensorValueFromMemory(_input1, inShape1);
        // The exported output has the rank the last layer gives it; the session says which.
        int[] dims = _session.OutputMetadata[_model.OutputName].Dimensions;
        _ortOutValue = OrtValue.CreateTensorValueFromMemory(_ortOut, OutputShape(dims, batch, o));
        _ortOutValue1 = OrtValue.CreateTensorValueFromMemory(_ortOut1, OutputShape(dims, 1, o));
        (_ortIns, _ortIns1, _ortOuts, _ortOuts1) = ([_ortIn], [_ortIn1], [_ortOutValue], [_ortOutValue1]);
    }

    public double FlopsPerImage => _model.FlopsPerImage;

    public void Engine() => _model.Forward(_input, _engineOut, SeedComparison.Batch);

    public void Ort() => _session.Run(_run, _inputNames, _ortIns, _outputNames, _ortOuts);

    public void Engine1() => _model.Forward(_input1, _engineOut1, 1);

    public void Ort1() => _session.Run(_run, _inputNames, _ortIns1, _outputNames, _ortOuts1);

    /// <summary>Max |engine - ORT| over max |engine| for one batch (and the same at batch 1); NaN or infinity when either is not finite.</summary>
    public double MaxDifference()
    {
        Engine();
        Ort();
        Engine1();
        Ort1();
        return Math.Max(RelativeMaxDiff(_engineOut, _ortOut), RelativeMaxDiff(_engineOut1, _ortOut1));
    }

    /// <summary>Images per second at batch <see cref="SeedComparison.Batch"/>, the median of interleaved rounds (which runtime
    /// goes first alternates), and each runtime's fastest call in seconds.</summary>
    public Measured Throughput(int rounds, double seconds)
    {
        Action engine = Engine, ort = Ort;
        WarmUp(engine);
        WarmUp(ort);
        List<double> ours = [], theirs = [];
        double oursBest = double.MaxValue, theirsBest = double.MaxValue;
        for (int r = 0; r < rounds; r++)
        {
            if (r % 2 == 1) { Settle(); theirs.Add(SeedComparison.Batch * Rate(ort, seconds, ref theirsBest, out _)); }
            Settle();
            ours.Add(SeedComparison.Batch * Rate(engine, seconds, ref oursBest, out _));
            if (r % 2 == 0) { Settle(); theirs.Add(SeedComparison.Batch * Rate(ort, seconds, ref theirsBest, out _)); }
        }

        return new Measured(Median(ours), Median(theirs), oursBest, theirsBest);
    }

    /// <summary>The median time of one batch-1 call in seconds over all calls of interleaved rounds (which runtime goes
    /// first alternates), and each runtime's fastest call.</summary>
    public Measured Latency(int rounds, double seconds)
    {
        Action engine = Engine1, ort = Ort1;
        WarmUp(engine);
        WarmUp(ort);
        List<double> ours = [], theirs = [];
        for (int r = 0; r < rounds; r++)
        {
            if (r % 2 == 1) { Settle(); CallTimes(ort, seconds, theirs); }
            Settle();
            CallTimes(engine, seconds, ours);
            if (r % 2 == 0) { Settle(); CallTimes(ort, seconds, theirs); }
        }

        // Median sorts: the first value is then the fastest call.
        return new Measured(Median(ours), Median(theirs), ours[0], theirs[0]);
    }

    public void Dispose()
    {
        _ortIn.Dispose();
        _ortIn1.Dispose();
        _ortOutValue.Dispose();
        _ortOutValue1.Dispose();
        _run.Dispose();
        _session.Dispose();
        _options.Dispose();
    }

    private static long[] OutputShape(int[] dims, int batch, TensorShape o) => dims.Length switch
    {
        2 => [batch, o.C],
        3 => [batch, o.C, o.H],
        4 => [batch, o.C, o.H, o.W],
        _ => throw new InvalidOperationException($"unexpected output rank {dims.Length}"),
    };

    private static double RelativeMaxDiff(float[] expected, float[] actual)
    {
        double diff = 0, scale = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            if (!float.IsFinite(expected[i]) || !float.IsFinite(actual[i])) return double.PositiveInfinity;
            diff = Math.Max(diff, Math.Abs((double)expected[i] - actual[i]));
            scale = Math.Max(scale, Math.Abs((double)expected[i]));
        }

        return diff / Math.Max(scale, 1e-30);
    }
}
