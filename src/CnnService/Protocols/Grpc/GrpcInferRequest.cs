using CnnService.Engine.Runtime;
using CnnService.Inference;

namespace CnnService.Protocols.Grpc;

/// <summary>One requested output: its name and, with the classification extension, how many top classes.</summary>
internal sealed record GrpcOutputRequest(string Name, int? Classification);

/// <summary>
/// A <c>ModelInferRequest</c> as the shared core's inputs: each input's elements from <c>raw_input_contents</c> (one
/// entry per input, in order) or from its typed <c>contents</c>, never both; and the outputs asked for (the model's one
/// output when none are named). Every malformation is an <see cref="InferenceException"/> saying where.
/// </summary>
internal sealed class GrpcInferRequest
{
    /// <summary>No model here takes more than 4 dimensions; a longer shape is refused before it is copied.</summary>
    private const int MaxRank = 8;

    public List<InferInput> Inputs { get; } = [];

    public List<GrpcOutputRequest> Outputs { get; } = [];

    /// <summary>The request sent raw_input_contents: the response answers in raw_output_contents, as Triton does.</summary>
    public bool Raw { get; private init; }

    /// <param name="model">The model the request is for: requested outputs are checked against its output's name.</param>
    public static GrpcInferRequest Read(ModelInferRequest request, Model model)
    {
        bool raw = request.RawInputContents.Count > 0;
        if (raw && request.RawInputContents.Count != request.Inputs.Count)
            throw InferenceException.Invalid($"raw_input_contents has {request.RawInputContents.Count} entries for {request.Inputs.Count} input(s); it needs one per input, in order.");
        var parsed = new GrpcInferRequest { Raw = raw };
        for (int i = 0; i < request.Inputs.Count; i++)
        {
            ModelInferRequest.Types.InferInputTensor input = request.Inputs[i];
            if (input.Shape.Count > MaxRank)
                throw InferenceException.Invalid($"Input \"{input.Name}\": shape has {input.Shape.Count} dimensions; at most {MaxRank} are accepted.");
            TensorContent content;
            if (raw)
            {
                if (input.Contents is not null)
                    throw InferenceException.Invalid($"Input \"{input.Name}\" has contents, but the request uses raw_input_contents: send one or the other.");
                content = new RawTensorContent(request.RawInputContents[i].Memory);
            }
            else
            {
                content = new GrpcTensorContent(input.Contents ?? new InferTensorContents());
            }

            parsed.Inputs.Add(new InferInput(input.Name, input.Datatype, [.. input.Shape], content));
        }

        foreach (ModelInferRequest.Types.InferRequestedOutputTensor output in request.Outputs)
        {
            InferenceSignature.CheckOutput(model, output.Name);
            parsed.Outputs.Add(new GrpcOutputRequest(output.Name, Classification(output)));
        }

        if (parsed.Outputs.Count == 0) parsed.Outputs.Add(new GrpcOutputRequest(model.OutputName, null));
        return parsed;
    }

    /// <summary>The output's "classification" parameter: a positive integer (int64_param, as Triton's clients send it, or uint64_param).</summary>
    private static int? Classification(ModelInferRequest.Types.InferRequestedOutputTensor output)
    {
        if (!output.Parameters.TryGetValue("classification", out InferParameter? parameter)) return null;
        long? k = parameter.ParameterChoiceCase switch
        {
            InferParameter.ParameterChoiceOneofCase.Int64Param => parameter.Int64Param,
            InferParameter.ParameterChoiceOneofCase.Uint64Param when parameter.Uint64Param <= long.MaxValue => (long)parameter.Uint64Param,
            _ => null,
        };
        if (k is not (>= 1 and <= int.MaxValue))
            throw InferenceException.Invalid($"Output \"{output.Name}\": parameter \"classification\" must be a positive integer (int64_param), the number of top classes.");
        return (int)k;
    }
}
