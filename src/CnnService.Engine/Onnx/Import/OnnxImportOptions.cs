using CnnService.Engine.Format;

namespace CnnService.Engine.Onnx.Import;

/// <summary>
/// What ONNX does not carry and a served model needs: its name, labels, and how an image becomes
/// its input tensor. Unset values take the defaults an image classifier exported from PyTorch
/// most often expects: grayscale or RGB by channel count, pixels scaled to [0, 1], no mean or std.
/// </summary>
public sealed record OnnxImportOptions
{
    public string? Name { get; init; }
    public string? Description { get; init; }
    public IReadOnlyList<string> Labels { get; init; } = [];
    public ColorMode? Color { get; init; }
    public float? Scale { get; init; }
    public float[]? Mean { get; init; }
    public float[]? Std { get; init; }

    /// <summary>The input's <c>"preprocess"</c> hint (model.json's, e.g. "mnist"), kept for the image reader that honours it.</summary>
    public string? Preprocess { get; init; }

    /// <summary>The input's height and width when the file leaves them free (a fully convolutional export).</summary>
    public (int Height, int Width)? InputSize { get; init; }
}
