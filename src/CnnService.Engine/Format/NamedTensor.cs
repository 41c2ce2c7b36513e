namespace CnnService.Engine.Format;

/// <summary>A float32 tensor with its safetensors name, row-major (C order) like PyTorch.</summary>
public sealed record NamedTensor(string Name, int[] Shape, float[] Data);
