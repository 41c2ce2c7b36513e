namespace CnnService.Cli;

/// <summary>The command line itself is wrong (unknown verb or option, bad value): exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>The command was understood but could not be carried out (bad input file and the like): exit code 1.</summary>
internal sealed class CliException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Process exit codes.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;
}
