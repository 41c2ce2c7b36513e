namespace CnnService.Engine.Onnx;

/// <summary>
/// Decodes ModelProto, GraphProto, NodeProto, AttributeProto and the small messages, by the field
/// numbers of ONNX's onnx.proto. Unknown fields are skipped; a known field with the wrong wire type is refused.
/// </summary>
internal static class OnnxMessageReader
{
    public static OnnxModel ReadModel(ProtoReader r, OnnxReadContext c)
    {
        long irVersion = 0, modelVersion = 0;
        string producerName = "", producerVersion = "", domain = "", docString = "";
        OnnxGraph? graph = null;
        var opsets = new List<OnnxOpsetImport>();
        var metadata = new List<KeyValuePair<string, string>>();
        while (r.NextField())
        {
            switch (r.Field)
            {
                case 1: irVersion = r.ReadInt64("ModelProto.ir_version"); break;
                case 2: producerName = r.ReadString("ModelProto.producer_name"); break;
                case 3: producerVersion = r.ReadString("ModelProto.producer_version"); break;
                case 4: domain = r.ReadString("ModelProto.domain"); break;
                case 5: modelVersion = r.ReadInt64("ModelProto.model_version"); break;
                case 6: docString = r.ReadString("ModelProto.doc_string"); break;
                case 7:
                    if (graph is not null)
                        throw c.Error("ModelProto.graph appears more than once");
                    graph = ReadGraph(r.ReadMessage("ModelProto.graph"), c);
                    break;
                case 8: opsets.Add(ReadOpset(r.ReadMessage("ModelProto.opset_import"))); break;
                case 14: metadata.Add(ReadEntry(r.ReadMessage("ModelProto.metadata_props"))); break;
                default: r.Skip(); break;
            }
        }

        if (graph is null)
            throw c.Error("the model has no graph (ModelProto.graph, field 7): not an ONNX model, or a truncated one");
        return new OnnxModel
        {
            IrVersion = irVersion, OpsetImports = opsets, ProducerName = producerName, ProducerVersion = producerVersion,
            Domain = domain, ModelVersion = modelVersion, DocString = docString, Graph = graph, MetadataProps = metadata,
        };
    }

    private static OnnxGraph ReadGraph(ProtoReader r, OnnxReadContext c)
    {
        string name = "";
        var nodes = new List<OnnxNode>();
        var initializers = new List<OnnxTensor>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var inputs = new List<OnnxValueInfo>();
        var outputs = new List<OnnxValueInfo>();
        var valueInfo = new List<OnnxValueInfo>();
        while (r.NextField())
        {
            switch (r.Field)
            {
                case 1: nodes.Add(ReadNode(r.ReadMessage("GraphProto.node"), c, nodes.Count)); break;
                case 2: name = r.ReadString("GraphProto.name"); break;
                case 5:
                    OnnxTensor t = OnnxTensorReader.Read(r.ReadMessage("GraphProto.initializer"), c, $"initializer #{initializers.Count}");
                    if (!names.Add(t.Name))
                        throw c.Error($"initializer '{t.Name}' appears more than once");
                    initializers.Add(t);
                    break;
                case 11: inputs.Add(ReadValueInfo(r.ReadMessage("GraphProto.input"))); break;
                case 12: outputs.Add(ReadValueInfo(r.ReadMessage("GraphProto.output"))); break;
                case 13: valueInfo.Add(ReadValueInfo(r.ReadMessage("GraphProto.value_info"))); break;
                default: r.Skip(); break; // doc_string, sparse_initializer, quantization_annotation
            }
        }

        return new OnnxGraph { Name = name, Nodes = nodes, Initializers = initializers, Inputs = inputs, Outputs = outputs, ValueInfo = valueInfo };
    }

    private static OnnxNode ReadNode(ProtoReader r, OnnxReadContext c, int index)
    {
        ProtoReader start = r;
        string name = "", opType = "", domain = "";
        var inputs = new List<string>();
        var outputs = new List<string>();
        while (r.NextField())
        {
            switch (r.Field)
            {
                case 1: inputs.Add(r.ReadString("NodeProto.input")); break;
                case 2: outputs.Add(r.ReadString("NodeProto.output")); break;
                case 3: name = r.ReadString("NodeProto.name"); break;
                case 4: opType = r.ReadString("NodeProto.op_type"); break;
                case 7: domain = r.ReadString("NodeProto.domain"); break;
                default: r.Skip(); break; // attributes below, once the node's name is known; doc_string
            }
        }

        string where = name.Length > 0 ? $"node '{name}'" : $"node #{index}";
        if (opType.Length == 0)
            throw c.Error($"{where} has no op_type");
        where += $" ({opType})";

        var attributes = new Dictionary<string, OnnxAttribute>(StringComparer.Ordinal);
        for (r = start; r.NextField();)
        {
            if (r.Field != 5)
            {
                r.Skip();
                continue;
            }

            OnnxAttribute a = ReadAttribute(r.ReadMessage("NodeProto.attribute"), c, where);
            if (!attributes.TryAdd(a.Name, a))
                throw c.Error($"{where}: attribute '{a.Name}' appears more than once");
        }

        return new OnnxNode { Name = name, OpType = opType, Domain = domain, Inputs = inputs, Outputs = outputs, Attributes = attributes };
    }

    private static OnnxAttribute ReadAttribute(ProtoReader r, OnnxReadContext c, string node)
    {
        ProtoReader start = r;
        string name = "";
        int declared = 0;
        OnnxAttributeType implied = OnnxAttributeType.Undefined;
        float f = 0;
        long i = 0;
        byte[] s = [];
        var strings = new List<byte[]>();
        bool hasFloats = false, hasInts = false;
        while (r.NextField())
        {
            switch (r.Field)
            {
                case 1: name = r.ReadString("AttributeProto.name"); break;
                case 20: declared = r.ReadInt32("AttributeProto.type"); break;
                case 2: f = r.ReadFloat("AttributeProto.f"); implied = OnnxAttributeType.Float; break;
                case 3: i = r.ReadInt64("AttributeProto.i"); implied = OnnxAttributeType.Int; break;
                case 4: s = r.ReadBytes("AttributeProto.s").ToArray(); implied = OnnxAttributeType.String; break;
                case 7: r.ReadRepeatedFixed(4, "AttributeProto.floats"); hasFloats = true; implied = OnnxAttributeType.Floats; break;
                case 8: r.ReadRepeatedVarints("AttributeProto.ints"); hasInts = true; implied = OnnxAttributeType.Ints; break;
                case 9: strings.Add(r.ReadBytes("AttributeProto.strings").ToArray()); implied = OnnxAttributeType.Strings; break;
                // Values this layer does not read: subgraphs are skipped whole, never parsed, so their depth costs nothing.
                case 5: r.ReadBytes("AttributeProto.t"); implied = OnnxAttributeType.Tensor; break;
                case 6: r.ReadBytes("AttributeProto.g"); implied = OnnxAttributeType.Graph; break;
                case 10: r.ReadBytes("AttributeProto.tensors"); implied = OnnxAttributeType.Tensors; break;
                case 11: r.ReadBytes("AttributeProto.graphs"); implied = OnnxAttributeType.Graphs; break;
                default: r.Skip(); break;
            }
        }

        string where = $"{node}: attribute '{name}'";
        if (name.Length == 0)
            throw c.Error($"{node}: an attribute has no name");
        if (declared is < 0 or > (int)OnnxAttributeType.TypeProtos)
            throw c.Error($"{where} has unknown type {declared}");
        var type = declared != 0 ? (OnnxAttributeType)declared : implied;
        if (type == OnnxAttributeType.Undefined)
            throw c.Error($"{where} has neither a type nor a value");

        OnnxTensor? tensor = null;
        var tensors = new List<OnnxTensor>();
        if (type is OnnxAttributeType.Tensor or OnnxAttributeType.Tensors)
        {
            for (r = start; r.NextField();)
            {
                if (r.Field == 5)
                    tensor = OnnxTensorReader.Read(r.ReadMessage("AttributeProto.t"), c, $"{where} tensor");
                else if (r.Field == 10)
                    tensors.Add(OnnxTensorReader.Read(r.ReadMessage("AttributeProto.tensors"), c, $"{where} tensor #{tensors.Count}"));
                else
                    r.Skip();
            }

            if (type == OnnxAttributeType.Tensor && tensor is null)
                throw c.Error($"{where} is TENSOR but has no tensor (field t)");
        }

        return new OnnxAttribute
        {
            Name = name, Type = type, F = f, I = i, S = s, T = tensor, Strings = strings, Tensors = tensors,
            Floats = hasFloats ? Repeated.Floats(start, 7, "AttributeProto.floats") : [],
            Ints = hasInts ? Repeated.Int64s(start, 8, "AttributeProto.ints") : [],
        };
    }

    private static OnnxValueInfo ReadValueInfo(ProtoReader r)
    {
        string name = "";
        bool isTensor = true;
        OnnxDataType elemType = OnnxDataType.Undefined;
        List<OnnxDim>? dims = null;
        while (r.NextField())
        {
            if (r.Field == 1)
            {
                name = r.ReadString("ValueInfoProto.name");
            }
            else if (r.Field == 2)
            {
                ProtoReader type = r.ReadMessage("ValueInfoProto.type");
                isTensor = false;
                while (type.NextField())
                {
                    if (type.Field != 1)
                    {
                        type.Skip(); // sequence_type, map_type, optional_type, denotation ...
                        continue;
                    }

                    isTensor = true;
                    (elemType, dims) = ReadTensorType(type.ReadMessage("TypeProto.tensor_type"));
                }
            }
            else
            {
                r.Skip();
            }
        }

        return new OnnxValueInfo { Name = name, IsTensor = isTensor, ElemType = elemType, Dims = dims };
    }

    private static (OnnxDataType, List<OnnxDim>?) ReadTensorType(ProtoReader r)
    {
        var elemType = OnnxDataType.Undefined;
        List<OnnxDim>? dims = null;
        while (r.NextField())
        {
            if (r.Field == 1)
            {
                elemType = (OnnxDataType)r.ReadInt32("TypeProto.Tensor.elem_type");
            }
            else if (r.Field == 2)
            {
                ProtoReader shape = r.ReadMessage("TypeProto.Tensor.shape");
                dims = [];
                while (shape.NextField())
                {
                    if (shape.Field == 1)
                        dims.Add(ReadDim(shape.ReadMessage("TensorShapeProto.dim")));
                    else
                        shape.Skip();
                }
            }
            else
            {
                r.Skip();
            }
        }

        return (elemType, dims);
    }

    /// <summary>A dimension: dim_value, dim_param, or neither. A negative dim_value (some exporters write -1) is unknown.</summary>
    private static OnnxDim ReadDim(ProtoReader r)
    {
        OnnxDim dim = OnnxDim.Unknown;
        while (r.NextField())
        {
            if (r.Field == 1)
            {
                long v = r.ReadInt64("TensorShapeProto.Dimension.dim_value");
                dim = v >= 0 ? OnnxDim.Of(v) : OnnxDim.Unknown;
            }
            else if (r.Field == 2)
            {
                dim = OnnxDim.Symbolic(r.ReadString("TensorShapeProto.Dimension.dim_param"));
            }
            else
            {
                r.Skip();
            }
        }

        return dim;
    }

    private static OnnxOpsetImport ReadOpset(ProtoReader r)
    {
        string domain = "";
        long version = 0;
        while (r.NextField())
        {
            if (r.Field == 1) domain = r.ReadString("OperatorSetIdProto.domain");
            else if (r.Field == 2) version = r.ReadInt64("OperatorSetIdProto.version");
            else r.Skip();
        }

        return new OnnxOpsetImport(domain, version);
    }

    public static KeyValuePair<string, string> ReadEntry(ProtoReader r)
    {
        string key = "", value = "";
        while (r.NextField())
        {
            if (r.Field == 1) key = r.ReadString("StringStringEntryProto.key");
            else if (r.Field == 2) value = r.ReadString("StringStringEntryProto.value");
            else r.Skip();
        }

        return new KeyValuePair<string, string>(key, value);
    }
}
