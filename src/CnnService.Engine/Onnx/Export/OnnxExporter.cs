using System.Globalization;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Onnx.Export;

/// <summary>
/// Writes a model in the project's own form (a <see cref="ModelSpec"/> and its weights) as an ONNX
/// graph that ONNX Runtime runs to the same outputs: one input [batch, C, H, W] with a symbolic batch
/// and one output, named as the model names them (<see cref="ModelSpec.InputName"/>, "input" and
/// "output" for a model.json model), so an imported model exports under its own names. Each layer becomes the ONNX node (or the few nodes) computing exactly what
/// the engine's layer computes; <see cref="OnnxExportConfig"/> keeps what ONNX does not carry. The
/// model is built once first, so a spec the engine would refuse is refused here with the engine's
/// message, and every layer's shapes are the engine's own.
/// </summary>
public sealed partial class OnnxExporter
{
    public const int DefaultOpset = 13;
    public const int MinOpset = 13;

    /// <summary>The newest opset written: what Debian's onnx 1.12 checker (and every ONNX Runtime since 1.12) knows.</summary>
    public const int MaxOpset = 17;

    public const string BatchDim = "batch";

    private readonly ModelSpec _spec;
    private readonly Model _model;
    private readonly WeightRecorder _weights;
    private readonly int _opset;
    private readonly List<OnnxNode> _nodes = [];
    private readonly List<OnnxTensor> _initializers = [];
    private readonly HashSet<string> _valueNames;
    private readonly HashSet<string> _nodeNames = new(StringComparer.Ordinal);
    private string _where = "";

    /// <summary>A tensor of the ONNX graph: its name, its ONNX rank (2: [N, K]; 3: [N, C, L]; 4: [N, C, H, W]) and the engine's per-image shape.</summary>
    private readonly record struct Value(string Name, int Rank, TensorShape Shape);

    private OnnxExporter(ModelSpec spec, Model model, WeightRecorder weights, int opset)
    {
        _spec = spec;
        _model = model;
        _weights = weights;
        _opset = opset;
        if (spec.InputName.Length == 0 || spec.OutputName.Length == 0 || spec.InputName == spec.OutputName)
            throw new ModelFormatException($"the input and output need two different non-empty names, got \"{spec.InputName}\" and \"{spec.OutputName}\".");

        // Reserved first, so no intermediate value takes either name.
        _valueNames = new(StringComparer.Ordinal) { spec.InputName, spec.OutputName };
    }

    /// <summary>The ONNX model of <paramref name="spec"/> with its tensors from <paramref name="weights"/> (used as stored).</summary>
    /// <exception cref="ModelFormatException">The spec or weights do not make a model, or a layer has no ONNX form.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The opset is outside [<see cref="MinOpset"/>, <see cref="MaxOpset"/>].</exception>
    public static OnnxModel Export(ModelSpec spec, IWeightSource weights, int opset = DefaultOpset)
    {
        if (opset is < MinOpset or > MaxOpset)
            throw new ArgumentOutOfRangeException(nameof(opset), opset, $"opset must be from {MinOpset} to {MaxOpset}.");
        var recorder = new WeightRecorder(weights);
        Model model = Model.Create(spec, recorder, EngineOptions.Default with { Threads = 1 });
        return new OnnxExporter(spec, model, recorder, opset).Run();
    }

    /// <summary>The model of a version folder (either form <see cref="ModelLoader"/> reads).</summary>
    public static OnnxModel Export(string directory, int opset = DefaultOpset)
    {
        var (spec, weights) = ModelLoader.Read(directory);
        return Export(spec, weights, opset);
    }

    private OnnxModel Run()
    {
        int n = _spec.Layers.Count;
        var values = new Value[n + 1];
        InputSpec input = _spec.Input;
        values[0] = new Value(_spec.InputName, 4, new TensorShape(input.Channels, input.Height, input.Width));
        for (int i = 0; i < n; i++)
        {
            LayerSpec layer = _spec.Layers[i];
            _where = $"model.json: {layer.Describe(i)}";
            IReadOnlyList<int> from = _model.InputsOf(i);
            var inputs = new Value[from.Count];
            for (int k = 0; k < inputs.Length; k++) inputs[k] = values[from[k] + 1];
            string name = layer.Name ?? string.Create(CultureInfo.InvariantCulture, $"{layer.Type}_{i}");
            Value result = Layer(layer, name, inputs);
            TensorShape expected = _model.Layers[i].OutputShape;
            if (result.Shape != expected)
                throw new InvalidOperationException($"{_where}: exported as {result.Shape}, but the engine's output is {expected}.");
            values[i + 1] = result;
        }

        Value output = NameOutput(values[n]);
        var graph = new OnnxGraph
        {
            Name = _spec.Name,
            Nodes = _nodes,
            Initializers = _initializers,
            Inputs = [Info(values[0])],
            Outputs = [Info(output)],
        };
        return new OnnxModel
        {
            IrVersion = 8, // what ONNX 1.10 to 1.12 write; every opset from 13 to 17 is valid in it
            OpsetImports = [new OnnxOpsetImport("", _opset)],
            ProducerName = "CnnService",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "",
            DocString = _spec.Description ?? "",
            Graph = graph,
        };
    }

    /// <summary>The graph's output must carry the model's output name: the last node is renamed, or an Identity added when the last layer ran nothing (a dropout).</summary>
    private Value NameOutput(Value last)
    {
        OnnxNode? producer = _nodes.Count > 0 ? _nodes[^1] : null;
        if (producer is not null && producer.Outputs.Count == 1 && producer.Outputs[0] == last.Name)
        {
            _nodes[^1] = new OnnxNode
            {
                Name = producer.Name, OpType = producer.OpType, Domain = producer.Domain, Inputs = producer.Inputs,
                Outputs = [_spec.OutputName], Attributes = producer.Attributes,
            };
        }
        else
        {
            _nodes.Add(new OnnxNode { Name = UniqueNode("output_identity"), OpType = "Identity", Inputs = [last.Name], Outputs = [_spec.OutputName] });
        }

        return last with { Name = _spec.OutputName };
    }

    private static OnnxValueInfo Info(Value v)
    {
        var dims = new List<OnnxDim> { OnnxDim.Symbolic(BatchDim), OnnxDim.Of(v.Shape.C) };
        if (v.Rank >= 3) dims.Add(OnnxDim.Of(v.Shape.H));
        if (v.Rank == 4) dims.Add(OnnxDim.Of(v.Shape.W));
        return new OnnxValueInfo { Name = v.Name, ElemType = OnnxDataType.Float, Dims = dims };
    }

    // ---- graph building ------------------------------------------------------------------------

    /// <summary>Adds a node with one output and returns that output's name (unique, based on <paramref name="name"/>).</summary>
    private string Node(string opType, string name, string[] inputs, params OnnxAttribute[] attributes)
    {
        string output = UniqueValue(name);
        var map = new Dictionary<string, OnnxAttribute>(StringComparer.Ordinal);
        foreach (OnnxAttribute a in attributes) map.Add(a.Name, a);
        _nodes.Add(new OnnxNode { Name = UniqueNode(name), OpType = opType, Inputs = inputs, Outputs = [output], Attributes = map });
        return output;
    }

    private string UniqueValue(string basis) => Unique(_valueNames, basis);

    private string UniqueNode(string basis) => Unique(_nodeNames, basis);

    private static string Unique(HashSet<string> names, string basis)
    {
        string name = basis;
        for (int k = 2; !names.Add(name); k++) name = string.Create(CultureInfo.InvariantCulture, $"{basis}_{k}");
        return name;
    }

    private string Floats(string name, long[] dims, float[] values)
    {
        string unique = UniqueValue(name);
        _initializers.Add(OnnxTensor.FromFloats(unique, dims, values));
        return unique;
    }

    private string Int64s(string name, params long[] values)
    {
        string unique = UniqueValue(name);
        _initializers.Add(OnnxTensor.FromInt64s(unique, [values.Length], values));
        return unique;
    }

    /// <summary>A stored tensor of the layer, exactly as the engine took it, as an initializer of the same name and shape.</summary>
    private string Weight(LayerSpec layer, string layerName, string suffix)
    {
        (int[] shape, float[] data) = _weights.Get($"{layer.Name}.{suffix}");
        return Floats($"{layerName}.{suffix}", Array.ConvertAll(shape, d => (long)d), data);
    }

    /// <summary>The value as [N, C, H, W] (a Reshape when it is [N, K] or [N, C, L]; the engine's shape is the same either way).</summary>
    private Value As4D(Value v, string name)
    {
        if (v.Rank == 4) return v;
        string shape = Int64s($"{name}_shape", 0, v.Shape.C, v.Shape.H, v.Shape.W);
        return new Value(Node("Reshape", $"{name}_4d", [v.Name, shape]), 4, v.Shape);
    }

    /// <summary>The value as [N, K] in (C, H, W) order, as the engine's dense layer reads it.</summary>
    private Value AsFlat(Value v, string name)
    {
        if (v.Rank == 2) return v;
        return new Value(Node("Flatten", $"{name}_flatten", [v.Name], OnnxAttribute.Of("axis", 1L)), 2, new TensorShape(v.Shape.Size, 1, 1));
    }

    private ModelFormatException Refuse(string what) => new($"{_where}: {what}");

    /// <summary>Records every tensor the model takes, so the export writes exactly the weights the engine runs.</summary>
    private sealed class WeightRecorder(IWeightSource inner) : IWeightSource
    {
        private readonly Dictionary<string, (int[] Shape, float[] Data)> _taken = new(StringComparer.Ordinal);

        public float[] Take(string name, params int[] shape)
        {
            float[] data = inner.Take(name, shape);
            _taken[name] = ((int[])shape.Clone(), data);
            return data;
        }

        public void Ignore(string name) => inner.Ignore(name);

        public void EnsureAllTaken() => inner.EnsureAllTaken();

        public (int[] Shape, float[] Data) Get(string name) =>
            _taken.TryGetValue(name, out var t) ? t : throw new InvalidOperationException($"the model did not take tensor '{name}'.");
    }
}
