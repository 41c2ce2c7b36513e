namespace CnnService.Models.Management;

public enum RepositoryErrorKind { Invalid, NotFound, Conflict, Unsupported }

/// <summary>A management request the repository refuses, with why: the endpoints map its kind to 400, 404, 409 or 415.</summary>
public sealed class RepositoryException(RepositoryErrorKind kind, string message) : Exception(message)
{
    public RepositoryErrorKind Kind { get; } = kind;

    public static RepositoryException Invalid(string message) => new(RepositoryErrorKind.Invalid, message);
    public static RepositoryException NotFound(string message) => new(RepositoryErrorKind.NotFound, message);
    public static RepositoryException Conflict(string message) => new(RepositoryErrorKind.Conflict, message);
}
