namespace CnnService.Engine.Onnx;

/// <summary>
/// Writes an <see cref="OnnxModel"/> as an ONNX file (protocol buffers <c>ModelProto</c>), by the field
/// numbers of ONNX's onnx.proto. Tensor values go in raw_data (little-endian), STRING tensors in
/// string_data; all data is written inline. Attributes of the kinds the reader skips (subgraphs,
/// sparse tensors, type protos) cannot be written.
/// </summary>
public static class OnnxWriter
{
    /// <summary>Writes the model to <paramref name="output"/> (buffer it: values are written a few bytes at a time).</summary>
    /// <exception cref="ArgumentException">The model holds an attribute whose value was not read (<see cref="OnnxAttribute.IsUnsupported"/>).</exception>
    public static void Write(OnnxModel model, Stream output) => Model(new ProtoWriter(output), model);

    /// <summary>The model's file bytes.</summary>
    public static byte[] Write(OnnxModel model)
    {
        // A counting pass first (it copies no tensor bytes), so the bytes are written once into an array of the right size.
        var counter = new ProtoWriter(null);
        Model(counter, model);
        var bytes = new byte[counter.Length];
        Write(model, new MemoryStream(bytes));
        return bytes;
    }

    private static void Model(ProtoWriter w, OnnxModel m)
    {
        w.Int64(1, m.IrVersion);
        w.StringIfSet(2, m.ProducerName);
        w.StringIfSet(3, m.ProducerVersion);
        w.StringIfSet(4, m.Domain);
        w.Int64IfSet(5, m.ModelVersion);
        w.StringIfSet(6, m.DocString);
        w.Message(7, m.Graph, Graph);
        foreach (OnnxOpsetImport o in m.OpsetImports)
            w.Message(8, o, static (w, o) => { w.StringIfSet(1, o.Domain); w.Int64(2, o.Version); });
        foreach (KeyValuePair<string, string> e in m.MetadataProps)
            w.Message(14, e, Entry);
    }

    private static void Graph(ProtoWriter w, OnnxGraph g)
    {
        foreach (OnnxNode n in g.Nodes)
            w.Message(1, n, Node);
        w.StringIfSet(2, g.Name);
        foreach (OnnxTensor t in g.Initializers)
            w.Message(5, t, Tensor);
        foreach (OnnxValueInfo v in g.Inputs)
            w.Message(11, v, ValueInfo);
        foreach (OnnxValueInfo v in g.Outputs)
            w.Message(12, v, ValueInfo);
        foreach (OnnxValueInfo v in g.ValueInfo)
            w.Message(13, v, ValueInfo);
    }

    private static void Node(ProtoWriter w, OnnxNode n)
    {
        foreach (string input in n.Inputs)
            w.String(1, input); // empty names are kept: they mark left-out optional inputs
        foreach (string output in n.Outputs)
            w.String(2, output);
        w.StringIfSet(3, n.Name);
        w.String(4, n.OpType);
        foreach (OnnxAttribute a in n.Attributes.Values)
            w.Message(5, a, Attribute);
        w.StringIfSet(7, n.Domain);
    }

    private static void Attribute(ProtoWriter w, OnnxAttribute a)
    {
        w.String(1, a.Name);
        switch (a.Type)
        {
            case OnnxAttributeType.Float: w.Float(2, a.F); break;
            case OnnxAttributeType.Int: w.Int64(3, a.I); break;
            case OnnxAttributeType.String: w.Bytes(4, a.S); break;
            case OnnxAttributeType.Tensor:
                w.Message(5, a.T ?? throw new ArgumentException($"attribute '{a.Name}' is TENSOR but has no tensor"), Tensor);
                break;
            case OnnxAttributeType.Floats: w.PackedFloats(7, a.Floats); break;
            case OnnxAttributeType.Ints: w.PackedInt64s(8, a.Ints); break;
            case OnnxAttributeType.Strings:
                foreach (byte[] s in a.Strings) w.Bytes(9, s);
                break;
            case OnnxAttributeType.Tensors:
                foreach (OnnxTensor t in a.Tensors) w.Message(10, t, Tensor);
                break;
            default:
                throw new ArgumentException($"attribute '{a.Name}' is {a.Type.ToString().ToUpperInvariant()}, which this writer cannot write");
        }

        w.Int64(20, (long)a.Type);
    }

    private static void Tensor(ProtoWriter w, OnnxTensor t)
    {
        if (t.Dims.Length > 0)
            w.PackedInt64s(1, t.Dims);
        w.Int64(2, (long)t.DataType);
        if (t.DataType == OnnxDataType.String)
        {
            foreach (byte[] s in t.StringData) w.Bytes(6, s);
        }

        w.StringIfSet(8, t.Name);
        if (t.DataType != OnnxDataType.String)
            w.Bytes(9, t.Data.Span);
    }

    private static void ValueInfo(ProtoWriter w, OnnxValueInfo v)
    {
        w.String(1, v.Name);
        if (v.IsTensor && (v.ElemType != OnnxDataType.Undefined || v.Dims is not null))
            w.Message(2, v, static (w, v) => w.Message(1, v, TensorType));
    }

    private static void TensorType(ProtoWriter w, OnnxValueInfo v)
    {
        w.Int64IfSet(1, (long)v.ElemType);
        if (v.Dims is not null)
            w.Message(2, v.Dims, static (w, dims) =>
            {
                foreach (OnnxDim d in dims)
                    w.Message(1, d, Dim);
            });
    }

    private static void Dim(ProtoWriter w, OnnxDim d)
    {
        if (d.Value is long value) w.Int64(1, value);
        else if (d.Param is string param) w.String(2, param);
    }

    private static void Entry(ProtoWriter w, KeyValuePair<string, string> e)
    {
        w.String(1, e.Key);
        w.String(2, e.Value);
    }
}
