namespace CnnService.Cli;

/// <summary>One verb of <c>cnn</c>: its name, one-line summary, full usage text, the options it accepts and what it does.</summary>
/// <param name="Run">Carries out the verb, writing results to the given writer; returns the exit code.</param>
/// <param name="Hidden">A maintenance verb: it runs and has help, but <c>cnn --help</c> does not list it.</param>
internal sealed record Command(
    string Name,
    string Summary,
    string Usage,
    IReadOnlyList<OptionSpec> Options,
    Func<ParsedArgs, TextWriter, int> Run,
    bool Hidden = false);
