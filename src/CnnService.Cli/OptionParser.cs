using System.Globalization;

namespace CnnService.Cli;

/// <summary>An option a verb accepts: <c>--name VALUE</c> (or <c>--name=VALUE</c>) when it takes a value, else a flag.</summary>
internal sealed record OptionSpec(string Name, bool TakesValue);

/// <summary>
/// The shared argument parser: long options only, each at most once, values as the next word or
/// after '='; everything else is a positional argument, and everything after a bare <c>--</c> is
/// positional too. Every mistake is a <see cref="UsageException"/> naming the verb.
/// </summary>
internal sealed class ParsedArgs
{
    private readonly string _verb;
    private readonly Dictionary<string, string?> _options;

    private ParsedArgs(string verb, Dictionary<string, string?> options, List<string> positionals, IReadOnlyList<string> raw)
    {
        _verb = verb;
        Raw = raw;
        _options = options;
        Positionals = positionals;
    }

    public IReadOnlyList<string> Positionals { get; }

    /// <summary>The arguments as given, after the verb (to record how a result was made).</summary>
    public IReadOnlyList<string> Raw { get; }

    /// <summary>True when the arguments ask for help (<c>--help</c> or <c>-h</c> before any <c>--</c>).</summary>
    public static bool WantsHelp(IEnumerable<string> args)
    {
        foreach (string arg in args)
        {
            if (arg == "--") return false;
            if (arg is "--help" or "-h") return true;
        }

        return false;
    }

    public static ParsedArgs Parse(string verb, IReadOnlyList<string> args, IReadOnlyList<OptionSpec> specs)
    {
        var options = new Dictionary<string, string?>(StringComparer.Ordinal);
        var positionals = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg == "--")
            {
                positionals.AddRange(args.Skip(i + 1));
                break;
            }

            if (arg.Length < 2 || arg[0] != '-' || IsNumber(arg))
            {
                positionals.Add(arg);
                continue;
            }

            int eq = arg.IndexOf('=');
            string name = eq >= 0 ? arg[..eq] : arg;
            OptionSpec spec = specs.FirstOrDefault(s => s.Name == name)
                ?? throw new UsageException($"unknown option '{name}' for 'cnn {verb}' (see 'cnn {verb} --help')");
            if (options.ContainsKey(name)) throw new UsageException($"option {name} given more than once");

            string? value = null;
            if (spec.TakesValue)
            {
                if (eq >= 0) value = arg[(eq + 1)..];
                else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) value = args[++i];
                else throw new UsageException($"option {name} needs a value");
                if (value.Length == 0) throw new UsageException($"option {name} needs a value");
            }
            else if (eq >= 0)
            {
                throw new UsageException($"option {name} takes no value");
            }

            options[name] = value;
        }

        return new ParsedArgs(verb, options, positionals, args.ToArray());
    }

    public bool Has(string name) => _options.ContainsKey(name);

    public string? GetString(string name) => _options.GetValueOrDefault(name);

    public int GetInt(string name, int defaultValue, int min, int max = int.MaxValue)
    {
        if (!_options.TryGetValue(name, out string? text)) return defaultValue;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
        {
            string range = max == int.MaxValue ? $"at least {min}" : $"from {min} to {max}";
            throw new UsageException($"option {name} must be an integer {range}, got '{text}'");
        }

        return value;
    }

    public double GetDouble(string name, double defaultValue, double min, bool minExclusive, double max = double.MaxValue)
    {
        if (!_options.TryGetValue(name, out string? text)) return defaultValue;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value)
            || (minExclusive ? value <= min : value < min) || value > max)
        {
            string bound = minExclusive ? $"greater than {min.ToString(CultureInfo.InvariantCulture)}" : $"at least {min.ToString(CultureInfo.InvariantCulture)}";
            string upper = max == double.MaxValue ? "" : $" and at most {max.ToString(CultureInfo.InvariantCulture)}";
            throw new UsageException($"option {name} must be a number {bound}{upper}, got '{text}'");
        }

        return value;
    }

    /// <summary>Fails unless exactly one of the two options was given.</summary>
    public void RequireExactlyOne(string first, string second)
    {
        bool a = Has(first), b = Has(second);
        if (a && b) throw new UsageException($"give either {first} or {second}, not both");
        if (!a && !b) throw new UsageException($"'cnn {_verb}' needs {first} or {second} (see 'cnn {_verb} --help')");
    }

    public string Require(string name) =>
        GetString(name) ?? throw new UsageException($"'cnn {_verb}' needs {name} (see 'cnn {_verb} --help')");

    private static bool IsNumber(string arg) =>
        double.TryParse(arg, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
}
