namespace CnnService.Engine.Data;

/// <summary>
/// A dataset cannot be read: a file is missing, or is not what it claims to be. The message
/// always names the file (or the directory) and what is wrong with it, so it can be shown as is.
/// </summary>
public sealed class DatasetFormatException(string message, Exception? inner = null) : Exception(message, inner);
