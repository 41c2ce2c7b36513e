namespace CnnService.Models.Management;

/// <summary>An upload refused for what it holds: a path, a link, a size or a count past the limits; a 400 saying which.</summary>
public sealed class UploadRefusedException(string message) : Exception(message);
