using System.Globalization;
using CnnService.Batching;
using CnnService.Engine.Data;
using CnnService.Engine.Format;
using CnnService.Metrics;
using CnnService.Models;
using CnnService.Predict;
using Microsoft.Extensions.Options;

namespace CnnService.Inference;

/// <summary>
/// The protocol-neutral inference path under every adapter (/v1 predict, TF Serving, v2 REST, gRPC):
/// <see cref="Begin"/> leases the version and labels the request's metrics and log line; <c>InferAsync</c> takes
/// either images already read into the model's input (/v1, TF Serving) or one input tensor (v2, gRPC), which it
/// checks against the model and the limits and turns into the model's normalised [N, C, H, W] float input
/// (FP32/FP16/FP64 as given; integer types as raw pixels through the model's own scale, mean and std; BYTES as
/// encoded images decoded and preprocessed exactly as <c>/v1/.../predict</c> does), submits it to the version's
/// dynamic batcher (so requests of every protocol share batches; a full queue is shed and counted) and returns the
/// output tensor. Every refusal is an <see cref="InferenceException"/>, naming the input at fault.
/// </summary>
public sealed class InferenceService(ModelRepository repository, IOptions<PredictLimits> limits, IOptions<BatchingOptions> batching,
    ImageInput imageInput, InferenceMetrics metrics)
{
    private readonly PredictLimits _limits = limits.Value;

    /// <summary>
    /// Leases <paramref name="name"/>'s version (the default one when <paramref name="version"/> is null) to read it
    /// (metadata, readiness, explain), labelling the log line with it. NotFound for an unknown model or version;
    /// NotReady while the service's first scan of its models is still loading them.
    /// </summary>
    public ModelCall Begin(HttpContext context, string name, int? version, InferenceProtocol protocol = InferenceProtocol.V1) =>
        new(context, name, Lease(name, version), protocol, metrics: null);

    /// <summary>As <see cref="Begin"/>, for an inference request: counted in the metrics as a success or a failure once disposed.</summary>
    public ModelCall BeginInference(HttpContext context, string name, int? version, InferenceProtocol protocol) =>
        new(context, name, Lease(name, version), protocol, metrics);

    private ModelLease Lease(string name, int? version)
    {
        if (!repository.TryAcquire(name, version, out ModelLease lease, out string? error))
        {
            throw repository.IsReady
                ? InferenceException.NotFound(error!)
                : new InferenceException(InferenceErrorKind.NotReady, $"The service is still loading its models: {error} Retry once /health/ready answers 200.");
        }

        return lease;
    }

    /// <summary>Images already read into the model's normalised input (/v1, TF Serving): submitted, and the call labelled with what served it.</summary>
    public async Task<InferenceResult> InferAsync(ModelCall call, PredictInputs images)
    {
        InferenceResult result = await SubmitAsync(call.Version, call.Protocol, images, call.Aborted);
        call.Served(result);
        return result;
    }

    /// <summary>Input tensors (v2, gRPC): checked, converted, submitted, and the call labelled with what served it.</summary>
    public async Task<InferenceResult> InferAsync(ModelCall call, IReadOnlyList<InferInput> inputs)
    {
        InferenceResult result;
        using (PredictInputs batch = Prepare(call.Version.Model, inputs))
            result = await SubmitAsync(call.Version, call.Protocol, batch, call.Aborted);
        call.Served(result);
        return result;
    }

    /// <summary>Into the version's batcher, or Busy (counted as shed) when its queue is full.</summary>
    private async Task<InferenceResult> SubmitAsync(ModelVersion version, InferenceProtocol protocol, PredictInputs images, CancellationToken cancellationToken)
    {
        if (!version.Batcher.TrySubmit(images.Buffer, images.Count, cancellationToken, out Task<BatchResult> submitted))
        {
            metrics.Shed(version, protocol);
            BatchingOptions b = batching.Value;
            throw new InferenceException(InferenceErrorKind.Busy,
                $"Model {version.Name} is busy: {b.MaxQueuedImages} images are already waiting. Retry after {b.RetryAfterSeconds} s.",
                TimeSpan.FromSeconds(b.RetryAfterSeconds));
        }

        var result = new InferenceResult(version, images.Count, await submitted);
        CheckFinite(result, images);
        return result;
    }

    /// <summary>
    /// The readers refuse NaN and infinity, but finite inputs far outside what a model reads (3e38 in a normalised tensor)
    /// overflow float32 inside the network, and an output of NaN or infinity would be a wrong answer or, in JSON, no answer
    /// at all. Such a request is refused, naming the image and its largest input value.
    /// </summary>
    private static void CheckFinite(InferenceResult result, PredictInputs images)
    {
        ReadOnlySpan<float> output = result.Output;
        int classes = result.Classes, size = result.Version.Model.InputShape.Size;
        for (int n = 0; n < result.Count; n++)
        {
            foreach (float y in output.Slice(n * classes, classes))
            {
                if (float.IsFinite(y)) continue;
                float largest = 0;
                foreach (float x in images.Buffer.AsSpan(n * size, size)) largest = Math.Max(largest, Math.Abs(x));
                throw InferenceException.Invalid(string.Create(CultureInfo.InvariantCulture,
                    $"Image {n} of the request overflows float32 arithmetic in the network: its output holds {y}. Its largest input value (normalised as the model reads it) is {largest:G4}; see the model's metadata for the input it expects."));
            }
        }
    }

    /// <summary>The request's input as the model's normalised input, in a pooled buffer the caller disposes.</summary>
    internal PredictInputs Prepare(Engine.Runtime.Model model, IReadOnlyList<InferInput> inputs)
    {
        InferInput input = InferenceSignature.CheckInputs(model, inputs);
        InputSpec spec = model.Spec.Input;
        if (!TensorDatatypes.TryParse(input.Datatype, out TensorDatatype datatype))
            throw InferenceException.Invalid($"Input \"{input.Name}\": unknown datatype \"{input.Datatype}\" (the protocol's are {TensorDatatypes.AllNames}).");
        if (datatype == TensorDatatype.Bool)
            throw InferenceException.Invalid($"Input \"{input.Name}\": BOOL is not an image; send FP32 (normalised), an integer type such as UINT8 (raw pixels) or BYTES (encoded images).");

        // The data must hold what the shape declares before the shape is believed: a declared size is never allocated.
        long declared = ElementCount(input);
        long held = input.Content.CountElements(input.Name, datatype);
        if (held != declared)
            throw InferenceException.Invalid($"Input \"{input.Name}\": shape {Show(input.Shape)} declares {declared} element(s); the data holds {held}.");

        int images = datatype == TensorDatatype.Bytes ? CheckBytesShape(input) : CheckImageShape(input, datatype, spec);
        if (images == 0) throw InferenceException.Invalid($"Input \"{input.Name}\" holds no images.");
        if (images > _limits.MaxImagesPerRequest)
            throw new InferenceException(InferenceErrorKind.TooLarge, $"A request may hold at most {_limits.MaxImagesPerRequest} images; input \"{input.Name}\" has {images}.");

        int size = spec.Channels * spec.Height * spec.Width;
        var batch = new PredictInputs(size, _limits.MaxImagesPerRequest);
        try
        {
            if (datatype == TensorDatatype.Bytes) DecodeImages(input, spec, batch);
            else ReadTensor(input, datatype, spec, batch, images);
            return batch;
        }
        catch
        {
            batch.Dispose();
            throw;
        }
    }

    private void DecodeImages(InferInput input, InputSpec spec, PredictInputs batch)
    {
        try
        {
            input.Content.ReadBytes(input.Name, (i, encoded) =>
            {
                if (encoded.IsEmpty) throw InferenceException.Invalid($"Input \"{input.Name}\" element {i} is empty; each BYTES element is one encoded image.");
                imageInput.Decode(encoded, spec, batch.Next(), $"input \"{input.Name}\" element {i}");
            });
        }
        catch (InferenceException e) when (e.Kind == InferenceErrorKind.UnsupportedMediaType)
        {
            // An element that is no image we read is a bad value of a BYTES tensor, not a body of the wrong media type.
            throw InferenceException.Invalid(e.Message);
        }
    }

    private static void ReadTensor(InferInput input, TensorDatatype datatype, InputSpec spec, PredictInputs batch, int images)
    {
        for (int i = 0; i < images; i++) batch.Next();
        Span<float> values = batch.Buffer.AsSpan(0, images * spec.Channels * spec.Height * spec.Width);
        input.Content.ReadNumbers(input.Name, datatype, values);
        if (datatype.IsInteger())
        {
            InputNormalization.Apply(spec, values, values);
            return;
        }

        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
                throw InferenceException.Invalid($"Input \"{input.Name}\": element {i} is {values[i].ToString(CultureInfo.InvariantCulture)}, not a finite FP32 value.");
        }
    }

    /// <summary>The product of the shape's dimensions; an overflow is a 400, as is a negative dimension.</summary>
    private static long ElementCount(InferInput input)
    {
        if (input.Shape.Length == 0) throw InferenceException.Invalid($"Input \"{input.Name}\" has no shape.");
        long count = 1;
        foreach (long dim in input.Shape)
        {
            if (dim < 0) throw InferenceException.Invalid($"Input \"{input.Name}\": shape {Show(input.Shape)} has a negative dimension.");
            if (dim != 0 && count > long.MaxValue / dim)
                throw InferenceException.Invalid($"Input \"{input.Name}\": shape {Show(input.Shape)} declares more elements than a 64-bit count holds.");
            count *= dim;
        }

        return count;
    }

    /// <summary>[N, C, H, W] with the model's C, H and W: the number of images N.</summary>
    private static int CheckImageShape(InferInput input, TensorDatatype datatype, InputSpec spec)
    {
        long[] s = input.Shape;
        if (s.Length != 4 || s[1] != spec.Channels || s[2] != spec.Height || s[3] != spec.Width)
            throw InferenceException.Invalid($"Input \"{input.Name}\": shape {Show(s)} does not fit the model, which takes [-1, {spec.Channels}, {spec.Height}, {spec.Width}] ({datatype.Name()}); or send encoded images as BYTES of shape [-1].");
        return (int)Math.Min(s[0], int.MaxValue);
    }

    /// <summary>BYTES: one encoded image per element, shape [N] or [N, 1].</summary>
    private static int CheckBytesShape(InferInput input)
    {
        long[] s = input.Shape;
        if (s.Length is not (1 or 2) || s.Length == 2 && s[1] != 1)
            throw InferenceException.Invalid($"Input \"{input.Name}\": shape {Show(s)} does not fit BYTES images, which take [-1] or [-1, 1] (one encoded image per element).");
        return (int)Math.Min(s[0], int.MaxValue);
    }

    internal static string Show(long[] shape) => $"[{string.Join(", ", shape)}]";
}
