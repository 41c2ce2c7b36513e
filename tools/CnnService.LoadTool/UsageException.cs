namespace CnnService.LoadTool;

/// <summary>A command line that cannot run: the message says what to change.</summary>
internal sealed class UsageException(string message) : Exception(message);
