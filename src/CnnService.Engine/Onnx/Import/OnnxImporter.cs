using System.Globalization;
using System.Text.Json.Nodes;
using CnnService.Engine.Format;

namespace CnnService.Engine.Onnx.Import;

/// <summary>
/// Turns an ONNX graph into the project's own model: a <see cref="ModelSpec"/> (a chain when the
/// graph is one, format 2 when it branches) and its weights. Nodes are visited in the file's
/// order, which ONNX requires to be topological. Values known at import (initializers, Constant
/// nodes, and the Shape/Gather/Unsqueeze/Concat chains PyTorch emits around Reshape) are folded
/// here once the input's C, H and W are known; only the batch dimension stays free. Every node
/// that computes per request becomes one layer. What cannot be imported is refused naming the
/// op, the node and the opset. The graph's input and output names are kept as the model's tensor names.
/// </summary>
public sealed partial class OnnxImporter
{
    private readonly OnnxModel _model;
    private readonly OnnxImportOptions _options;
    private readonly string _file;
    private readonly long _opset;
    private readonly Dictionary<string, ImportValue> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _readers = new(StringComparer.Ordinal);
    private readonly List<PendingLayer> _layers = [];
    private readonly Dictionary<string, PendingLayer> _layerByName = new(StringComparer.Ordinal);
    private readonly List<NamedTensor> _tensors = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal) { LayerSpec.ModelInput };
    private OnnxNode _node = null!;
    private string _inputName = ModelSpec.DefaultInputName;

    private OnnxImporter(OnnxModel model, OnnxImportOptions options, string file)
    {
        _model = model;
        _options = options;
        _file = file;
        _opset = model.DefaultOpsetVersion ?? throw new ModelFormatException($"{file}: the model imports no opset of the default ONNX domain.");
    }

    /// <summary>A layer on its way into the spec: mutable while later nodes may still fold into it.</summary>
    private sealed class PendingLayer(string type, string name, List<string> inputs)
    {
        public string Type { get; } = type;
        public string Name { get; } = name;
        public List<string> Inputs { get; } = inputs;

        /// <summary>What the layer reads, as values: a later node folding into this layer (a Pad into a Conv) needs them.</summary>
        public DynamicValue[] Sources { get; init; } = [];

        /// <summary>How many ONNX nodes read this layer's output: a fold into it is only right when that is one.</summary>
        public int Readers { get; init; }
        public JsonObject Extra { get; } = new();
        public int? Filters { get; set; }
        public int? Units { get; set; }
        public Pair? Kernel { get; set; }
        public Pair? Stride { get; set; }
        public Padding Padding { get; set; } = Padding.Zero;
        public string PaddingMode { get; set; } = "zeros";
        public bool UseBias { get; set; } = true;
        public float? Alpha { get; set; }
        public float? Beta { get; set; }
        public float Eps { get; set; } = 1e-5f;
        public int Size { get; set; } = 5;
        public float K { get; set; } = 1f;
        public bool Removed { get; set; }
    }

    /// <summary>Imports a whole file; its folder is where external data may live.</summary>
    public static (ModelSpec Spec, WeightSet Weights) Import(string path, OnnxImportOptions? options = null)
    {
        OnnxModel model = OnnxReader.Read(path);
        return Import(model, options ?? new OnnxImportOptions(), Path.GetFileName(path));
    }

    public static (ModelSpec Spec, WeightSet Weights) Import(OnnxModel model, OnnxImportOptions options, string fileName = "model.onnx")
    {
        var importer = new OnnxImporter(model, options, fileName);
        return importer.Run();
    }

    private (ModelSpec, WeightSet) Run()
    {
        OnnxGraph graph = _model.Graph;
        foreach (OnnxTensor init in graph.Initializers) _values[init.Name] = Constant(init, $"initializer '{init.Name}'");

        // Older exporters list initializers among the inputs too: those are weights, not inputs.
        var inputs = graph.Inputs.Where(i => !_values.ContainsKey(i.Name)).ToList();
        if (inputs.Count != 1)
            throw Fail($"the graph has {inputs.Count} inputs ({string.Join(", ", inputs.Select(i => $"'{i.Name}'"))}); an image classifier takes exactly one.");
        if (graph.Outputs.Count != 1)
            throw Fail($"the graph has {graph.Outputs.Count} outputs ({string.Join(", ", graph.Outputs.Select(o => $"'{o.Name}'"))}); one is supported.");
        long[] inputDims = InputDims(inputs[0]);
        _values[inputs[0].Name] = new DynamicValue(LayerSpec.ModelInput, inputDims);
        _inputName = inputs[0].Name;

        foreach (OnnxNode node in graph.Nodes)
        {
            foreach (string name in node.Inputs) if (name.Length > 0) _readers[name] = _readers.GetValueOrDefault(name) + 1;
        }

        foreach (string name in graph.Outputs.Select(o => o.Name)) _readers[name] = _readers.GetValueOrDefault(name) + 1;

        foreach (OnnxNode node in graph.Nodes)
        {
            _node = node;
            if (node.Domain is not ("" or "ai.onnx"))
                throw Unsupported($"op '{node.Domain}.{node.OpType}' of a custom domain");
            foreach (var attribute in node.Attributes.Values)
                if (attribute.IsUnsupported) throw Unsupported($"attribute '{attribute.Name}' (a subgraph)");
            ImportNode(node);
        }

        string output = graph.Outputs[0].Name;
        if (!_values.TryGetValue(output, out ImportValue? result) || result is not DynamicValue { Shuffle: ShuffleStage.None } final || final.Source == LayerSpec.ModelInput)
            throw new ModelFormatException($"{_file}: the output '{output}' is not computed from the input by any supported layer.");
        return Finish(final, inputDims);
    }

    private long[] InputDims(OnnxValueInfo input)
    {
        if (input.ElemType != OnnxDataType.Float)
            throw Fail($"the input '{input.Name}' is {OnnxDataTypes.Name(input.ElemType)}; only FLOAT inputs are supported.");
        if (input.Dims is not { } dims || dims.Count is not (2 or 4))
            throw Fail($"the input '{input.Name}' must be [N, C, H, W] or [N, features], got {(input.Dims is null ? "no shape" : $"[{string.Join(", ", input.Dims)}]")}.");
        var result = new long[dims.Count];
        result[0] = DynamicValue.Batch;
        if (dims[0].Value is long n && n != 1)
            throw Fail($"the input '{input.Name}' fixes the batch at {n}; export it with a dynamic or unit batch dimension.");
        for (int i = 1; i < dims.Count; i++)
        {
            long? value = dims[i].Value;
            if (value is null && dims.Count == 4 && i >= 2 && _options.InputSize is { } size) value = i == 2 ? size.Height : size.Width;
            if (value is not long v || v < 1 || v > 65536)
                throw Fail($"the input '{input.Name}' dimension {i} is {dims[i]}; C, H and W must be known (give the input size in the import options).");
            result[i] = v;
        }

        return result;
    }

    private (ModelSpec, WeightSet) Finish(DynamicValue output, long[] inputDims)
    {
        // The last layer must produce the output; layers the output does not depend on are dropped.
        var used = new HashSet<string>(StringComparer.Ordinal) { output.Source };
        var kept = new List<PendingLayer>();
        for (int i = _layers.Count - 1; i >= 0; i--)
        {
            PendingLayer layer = _layers[i];
            if (layer.Removed || !used.Contains(layer.Name)) continue;
            kept.Add(layer);
            foreach (string input in layer.Inputs) used.Add(input);
        }

        kept.Reverse();
        if (kept[^1].Name != output.Source)
            throw Fail($"the output is produced by '{output.Source}', which is not the last layer.");
        var keptTensors = _tensors.Where(t => kept.Any(l => t.Name.StartsWith(l.Name + ".", StringComparison.Ordinal))).ToList();

        var layers = new List<LayerSpec>(kept.Count);
        bool graph = false;
        for (int i = 0; i < kept.Count; i++)
        {
            PendingLayer l = kept[i];
            string previous = i == 0 ? LayerSpec.ModelInput : kept[i - 1].Name;
            bool chain = l.Inputs.Count == 1 && l.Inputs[0] == previous;
            graph |= !chain;
            layers.Add(new LayerSpec
            {
                Type = l.Type, Name = l.Name, Inputs = chain ? null : l.Inputs.ToArray(), Filters = l.Filters, Units = l.Units,
                Kernel = l.Kernel, Stride = l.Stride, Padding = l.Padding, PaddingMode = l.PaddingMode, UseBias = l.UseBias, Alpha = l.Alpha, Beta = l.Beta,
                Eps = l.Eps, Size = l.Size, K = l.K, Extra = l.Extra,
            });
        }

        int channels = inputDims.Length == 4 ? (int)inputDims[1] : (int)inputDims[1];
        int height = inputDims.Length == 4 ? (int)inputDims[2] : 1, width = inputDims.Length == 4 ? (int)inputDims[3] : 1;
        ColorMode color = _options.Color ?? (inputDims.Length == 4 ? channels switch { 1 => ColorMode.Grayscale, 3 => ColorMode.Rgb, _ => ColorMode.None } : ColorMode.None);
        var spec = new ModelSpec
        {
            Format = graph ? ModelSpec.GraphFormat : 1,
            Name = _options.Name ?? (_model.Graph.Name is { Length: > 0 } g ? g : "onnx-model"),
            Description = _options.Description ?? Describe(),
            Input = new InputSpec
            {
                Channels = channels, Height = height, Width = width, Color = color,
                Scale = _options.Scale ?? (color == ColorMode.None ? 1f : 1f / 255f),
                Mean = PerChannel(_options.Mean, channels, 0f, "mean"),
                Std = PerChannel(_options.Std, channels, 1f, "std"),
                Extra = _options.Preprocess is { } preprocess ? new JsonObject { ["preprocess"] = preprocess } : [],
            },
            Labels = _options.Labels,
            Layers = layers,

            // Clients address the tensors by the names the exporter gave them (Triton requires them): keep both.
            InputName = _inputName,
            OutputName = _model.Graph.Outputs[0].Name,
        };
        return (spec, WeightSet.FromTensors(keptTensors, _file));
    }

    private string Describe()
    {
        string producer = _model.ProducerName is { Length: > 0 } p ? $"{p} {_model.ProducerVersion}".Trim() : "an unknown producer";
        return $"Imported from ONNX (opset {_opset}, exported by {producer}).";
    }

    private float[] PerChannel(float[]? values, int channels, float fallback, string what)
    {
        if (values is null) return Enumerable.Repeat(fallback, channels).ToArray();
        if (values.Length == 1) return Enumerable.Repeat(values[0], channels).ToArray();
        return values.Length == channels ? values : throw new ModelFormatException($"{_file}: {what} has {values.Length} values; the input has {channels} channels.");
    }

    // ---- values -----------------------------------------------------------------------------

    private ConstantValue Constant(OnnxTensor tensor, string what)
    {
        if (tensor.ElementCount > int.MaxValue / 4) throw new ModelFormatException($"{_file}: {what} has {tensor.ElementCount:N0} elements, too many.");
        return tensor.DataType switch
        {
            OnnxDataType.Int64 or OnnxDataType.Int32 or OnnxDataType.Int8 or OnnxDataType.UInt8 or OnnxDataType.Int16 or OnnxDataType.UInt16 or OnnxDataType.Bool
                => ConstantValue.Of(tensor.Dims, tensor.ToInt64s()),
            OnnxDataType.Float or OnnxDataType.Double or OnnxDataType.Float16 or OnnxDataType.BFloat16 => ConstantValue.Of(tensor.Dims, tensor.ToFloats()),
            _ => throw new ModelFormatException($"{_file}: {what} is {OnnxDataTypes.Name(tensor.DataType)}, which is not supported."),
        };
    }

    private ImportValue Input(int index)
    {
        if (index >= _node.Inputs.Count || _node.Inputs[index].Length == 0) throw Fail($"input {index} is missing.");
        string name = _node.Inputs[index];
        return _values.TryGetValue(name, out ImportValue? value) ? value : throw Fail($"input '{name}' is not defined before this node (the graph must be in topological order).");
    }

    private bool HasInput(int index) => index < _node.Inputs.Count && _node.Inputs[index].Length > 0;

    private DynamicValue Dynamic(int index) => Input(index) switch
    {
        DynamicValue { Shuffle: ShuffleStage.None } d => d,
        DynamicValue => throw Unsupported("a 5-D tensor other than a channel shuffle"),
        _ => throw Fail($"input {index} ('{_node.Inputs[index]}') is a constant where a computed tensor is expected."),
    };

    private ConstantValue Const(int index, string what) => Input(index) as ConstantValue
        ?? throw Fail($"{what} (input {index}, '{_node.Inputs[index]}') must be a constant (an initializer or computed from them); it depends on the input.");

    private void SetOutput(ImportValue value, int index = 0)
    {
        if (index < _node.Outputs.Count && _node.Outputs[index].Length > 0) _values[_node.Outputs[index]] = value;
    }

    /// <summary>Whether output <paramref name="index"/> of the node is read by anything.</summary>
    private bool OutputUsed(int index) => index < _node.Outputs.Count && _node.Outputs[index].Length > 0 && _readers.ContainsKey(_node.Outputs[index]);

    // ---- layers -----------------------------------------------------------------------------

    /// <summary>Adds a layer reading <paramref name="inputs"/> and returns it; its output becomes the node's first output.</summary>
    private PendingLayer AddLayer(string type, long[] outputDims, params DynamicValue[] inputs)
    {
        string output = _node.Outputs.Count > 0 ? _node.Outputs[0] : "";
        var layer = new PendingLayer(type, UniqueName(), inputs.Select(i => i.Source).ToList()) { Sources = inputs, Readers = _readers.GetValueOrDefault(output) };
        _layers.Add(layer);
        _layerByName[layer.Name] = layer;
        SetOutput(new DynamicValue(layer.Name, outputDims));
        return layer;
    }

    private string UniqueName()
    {
        string basis = _node.Name.Length > 0 ? _node.Name : $"{_node.OpType}_{_layers.Count}";
        string name = basis;
        for (int i = 2; !_names.Add(name); i++) name = string.Create(CultureInfo.InvariantCulture, $"{basis}_{i}");
        return name;
    }

    private void AddTensor(PendingLayer layer, string suffix, int[] shape, float[] data) => _tensors.Add(new NamedTensor($"{layer.Name}.{suffix}", shape, data));

    private NamedTensor? FindTensor(PendingLayer layer, string suffix) => _tensors.Find(t => t.Name == $"{layer.Name}.{suffix}");

    /// <summary>The layer that produces <paramref name="value"/>, when a node may fold into it: read by this node alone.</summary>
    private PendingLayer? SoleProducer(DynamicValue value, string type) =>
        _layerByName.TryGetValue(value.Source, out PendingLayer? layer) && layer.Type == type && layer.Readers == 1 && !layer.Removed ? layer : null;

    // ---- errors -----------------------------------------------------------------------------

    private string Where => $"node '{(_node.Name.Length > 0 ? _node.Name : "(unnamed)")}' ({_node.OpType}, opset {_opset})";

    private ModelFormatException Fail(string message) => _node is null
        ? new ModelFormatException($"{_file}: {message}")
        : new ModelFormatException($"{_file}: {Where}: {message}");

    private ModelFormatException Unsupported(string what) => new($"{_file}: {Where}: {what} is not supported.");

    internal static string Show(long[] dims) => "[" + string.Join(", ", dims.Select(d => d == DynamicValue.Batch ? "N" : d.ToString(CultureInfo.InvariantCulture))) + "]";
}
