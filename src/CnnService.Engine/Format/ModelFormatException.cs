namespace CnnService.Engine.Format;

/// <summary>A model file is wrong. The message names the file and, where it applies, the tensor or layer.</summary>
public sealed class ModelFormatException(string message, Exception? inner = null) : Exception(message, inner);
