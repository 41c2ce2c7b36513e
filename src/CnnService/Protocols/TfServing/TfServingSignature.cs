using System.Globalization;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Models;

namespace CnnService.Protocols.TfServing;

/// <summary>
/// How a served model looks to a TensorFlow Serving client: one signature, <c>serving_default</c>
/// (<c>tensorflow/serving/predict</c>), taking <c>image</c> (or the model's own input name, see
/// <see cref="InputName"/>), DT_FLOAT <c>[-1, C, H, W]</c> (the layout of /v1 predict's instances), and giving
/// <c>probabilities</c>, DT_FLOAT <c>[-1, classes]</c> (the model's output read as probabilities by the same rule
/// as /v1 predict: not the model's own output when that is logits, so not under its name). And the status of its versions.
/// </summary>
public static class TfServingSignature
{
    public const string SignatureName = "serving_default";
    public const string MethodName = "tensorflow/serving/predict";
    public const string DefaultInputName = "image";
    public const string OutputName = "probabilities";

    /// <summary>
    /// The input's name: the model's own when it carries one (an ONNX model's graph input, which a client of the original
    /// model sends), otherwise <c>image</c>, this protocol's name for a model.json model's input.
    /// </summary>
    public static string InputName(Model model) => model.InputName == ModelSpec.DefaultInputName ? DefaultInputName : model.InputName;

    /// <summary>GetModelMetadata's answer for one version, in TF Serving's JSON (int64 fields as strings, as proto3 JSON writes them).</summary>
    public static TfMetadataResponse Metadata(ModelVersion version)
    {
        Model model = version.Model;
        string inputName = InputName(model);
        var input = new TfTensorInfo("DT_FLOAT", Shape(-1, model.InputShape.C, model.InputShape.H, model.InputShape.W), inputName);
        var output = new TfTensorInfo("DT_FLOAT", Shape(-1, model.OutputShape.Size), OutputName);
        var signature = new TfSignatureDef(new() { [inputName] = input }, new() { [OutputName] = output }, MethodName);
        return new TfMetadataResponse(
            new TfModelSpec(version.Name, "", Text(version.Version)),
            new TfMetadata(new TfSignatureDefMap(new() { [SignatureName] = signature })));
    }

    /// <summary>
    /// GetModelStatus's <c>model_version_status</c>: every version of <paramref name="model"/> when
    /// <paramref name="allVersions"/>, otherwise just <paramref name="served"/>. A loaded version is AVAILABLE;
    /// one that failed to load has reached END with its error, as a TF Serving version that failed to load does.
    /// </summary>
    public static List<TfModelVersionStatus> Status(ServedModel? model, ModelVersion served, bool allVersions)
    {
        var ok = new TfStatus("OK", "");
        if (!allVersions || model is null) return [new TfModelVersionStatus(Text(served.Version), "AVAILABLE", ok)];
        var statuses = new List<TfModelVersionStatus>(model.Loaded.Count + model.Failed.Count);
        foreach (int version in model.Loaded.Keys.Concat(model.Failed.Keys).Distinct().Order())
        {
            statuses.Add(model.Loaded.ContainsKey(version)
                ? new TfModelVersionStatus(Text(version), "AVAILABLE", ok)
                : new TfModelVersionStatus(Text(version), "END", new TfStatus("UNKNOWN", model.Failed[version].Error)));
        }

        return statuses;
    }

    private static TfTensorShape Shape(params int[] dims) =>
        new([.. dims.Select(d => new TfDim(Text(d), ""))], false);

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>One entry of <c>model_version_status</c>: version (a string, as proto3 JSON writes int64), state, status.</summary>
public sealed record TfModelVersionStatus(string Version, string State, TfStatus Status);

public sealed record TfStatus(string ErrorCode, string ErrorMessage);

/// <summary><c>GET /v1/models/{name}[/versions/{version}]/metadata</c>: TF Serving's GetModelMetadataResponse.</summary>
public sealed record TfMetadataResponse(TfModelSpec ModelSpec, TfMetadata Metadata);

public sealed record TfModelSpec(string Name, string SignatureName, string Version);

/// <summary>The <c>signature_def</c> metadata field: a SignatureDefMap, itself holding a <c>signature_def</c> map (hence the doubled key).</summary>
public sealed record TfMetadata(TfSignatureDefMap SignatureDef);

public sealed record TfSignatureDefMap(Dictionary<string, TfSignatureDef> SignatureDef);

public sealed record TfSignatureDef(Dictionary<string, TfTensorInfo> Inputs, Dictionary<string, TfTensorInfo> Outputs, string MethodName);

public sealed record TfTensorInfo(string Dtype, TfTensorShape TensorShape, string Name);

public sealed record TfTensorShape(IReadOnlyList<TfDim> Dim, bool UnknownRank);

public sealed record TfDim(string Size, string Name);
