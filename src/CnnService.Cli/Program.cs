using CnnService.Engine.Data;
using CnnService.Engine.Format;

namespace CnnService.Cli;

/// <summary>
/// The <c>cnn</c> entry point: finds the verb, prints help, and turns every error into one
/// line on stderr and an exit code (2: the command line is wrong; 1: the command failed).
/// </summary>
internal static class Program
{
    internal static IReadOnlyList<Command> Commands { get; } = [InfoCommand.Definition, PredictCommand.Definition, TrainCommand.Definition, EvaluateCommand.Definition, BenchCommand.Definition, ExportCommand.Definition, ImportCommand.Definition, IdxHeadCommand.Definition];

    /// <summary>The commands <c>cnn --help</c> lists: all but the hidden maintenance verbs.</summary>
    private static IEnumerable<Command> Listed => Commands.Where(c => !c.Hidden);

    public static int Main(string[] args)
    {
        // Buffered: predict may print many thousands of lines, and Console.Out flushes every one.
        var stdout = new StreamWriter(Console.OpenStandardOutput(), new System.Text.UTF8Encoding(false), 1 << 16);
        int code = Run(args, stdout, Console.Error);
        try
        {
            stdout.Dispose();
        }
        catch (IOException e)
        {
            // The reader went away (`cnn predict ... | head`): nothing more to say to it.
            return code == ExitCodes.Ok ? Fail(Console.Error, $"cannot write the output: {e.Message}", ExitCodes.Failure) : code;
        }

        return code;
    }

    internal static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            if (args.Length == 0) throw new UsageException("no command given (see 'cnn --help')");
            string verb = args[0];
            if (verb is "--help" or "-h" or "help")
            {
                if (args.Length > 1 && verb == "help") return Help(Find(args[1]), stdout);
                stdout.Write(Usage());
                return ExitCodes.Ok;
            }

            if (verb is "--version")
            {
                stdout.WriteLine($"cnn {typeof(Program).Assembly.GetName().Version}");
                return ExitCodes.Ok;
            }

            Command command = Find(verb);
            string[] rest = args[1..];
            if (ParsedArgs.WantsHelp(rest)) return Help(command, stdout);
            return command.Run(ParsedArgs.Parse(command.Name, rest, command.Options), stdout);
        }
        catch (UsageException e)
        {
            return Fail(stderr, e.Message, ExitCodes.Usage);
        }
        catch (Exception e) when (e is CliException or NpyFormatException or ModelFormatException or DatasetFormatException or IOException
                                      or UnauthorizedAccessException or PlatformNotSupportedException or ArgumentException)
        {
            // Expected failures: the engine's and our own messages already name the file or value at fault.
            return Fail(stderr, e.Message, ExitCodes.Failure);
        }
        catch (Exception e)
        {
            return Fail(stderr, $"internal error: {e.GetType().Name}: {e.Message}", ExitCodes.Failure);
        }
    }

    private static Command Find(string verb) =>
        Commands.FirstOrDefault(c => c.Name == verb)
        ?? throw new UsageException(verb.StartsWith('-')
            ? $"unknown option '{verb}' (see 'cnn --help')"
            : $"unknown command '{verb}' (commands: {string.Join(", ", Listed.Select(c => c.Name))}; see 'cnn --help')");

    private static int Help(Command command, TextWriter stdout)
    {
        stdout.WriteLine(command.Usage);
        return ExitCodes.Ok;
    }

    internal static string Usage()
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine("usage: cnn COMMAND [OPTIONS]");
        text.AppendLine();
        text.AppendLine("A CPU convolutional-network engine on the command line.");
        text.AppendLine();
        text.AppendLine("commands:");
        int width = Listed.Max(c => c.Name.Length);
        foreach (Command c in Listed) text.AppendLine($"  {c.Name.PadRight(width)}  {c.Summary}");
        text.AppendLine();
        text.AppendLine("Run 'cnn COMMAND --help' for a command's options.");
        text.AppendLine("Exit codes: 0 success, 1 the command failed, 2 the command line is wrong.");
        return text.ToString();
    }

    /// <summary>One line, prefixed "cnn: ", however many lines the message had.</summary>
    private static int Fail(TextWriter stderr, string message, int code)
    {
        string oneLine = string.Join(" ", message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        stderr.WriteLine($"cnn: {oneLine}");
        return code;
    }
}
