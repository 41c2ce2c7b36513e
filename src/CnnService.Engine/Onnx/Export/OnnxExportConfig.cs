using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CnnService.Engine.Format;
using CnnService.Engine.Onnx.Import;

namespace CnnService.Engine.Onnx.Export;

/// <summary>
/// The <c>config.json</c> written beside an exported <c>model.onnx</c>: what ONNX does not carry (name,
/// description, labels, and how an image becomes the input tensor), in <see cref="OnnxConfig"/>'s format,
/// so the pair imports back to the same model.
/// </summary>
public static class OnnxExportConfig
{
    public static string ToJson(ModelSpec spec)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("name", spec.Name);
            if (spec.Description is { } description) w.WriteString("description", description);
            if (spec.Labels.Count > 0)
            {
                w.WriteStartArray("labels");
                foreach (string label in spec.Labels) w.WriteStringValue(label);
                w.WriteEndArray();
            }

            InputSpec input = spec.Input;
            w.WriteStartObject("input");
            w.WriteString("color", input.Color switch { ColorMode.Grayscale => "grayscale", ColorMode.Rgb => "rgb", _ => "none" });
            w.WriteNumber("scale", input.Scale); // floats are written shortest-round-trip: they read back bit for bit
            Numbers(w, "mean", input.Mean);
            Numbers(w, "std", input.Std);
            // The image reader's hint (e.g. MNIST's centring), which the served ONNX model must keep.
            if (input.Extra["preprocess"] is JsonValue preprocess && preprocess.TryGetValue(out string? hint)) w.WriteString("preprocess", hint);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void Numbers(Utf8JsonWriter w, string name, float[] values)
    {
        w.WriteStartArray(name);
        foreach (float v in values) w.WriteNumberValue(v);
        w.WriteEndArray();
    }
}
