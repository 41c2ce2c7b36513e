using System.Globalization;

namespace CnnService.LoadTool;

/// <summary>The option syntax both commands share: <c>--name value</c> pairs and bare <c>--flags</c>.</summary>
internal static class CommandLine
{
    /// <summary>The options as name to value (null for a flag); an unknown name or a missing value is a <see cref="UsageException"/>.</summary>
    public static Dictionary<string, string?> Read(string[] args, IReadOnlySet<string> valued, IReadOnlySet<string> flags)
    {
        var options = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            if (flags.Contains(name)) options[name] = null;
            else if (valued.Contains(name))
            {
                if (i + 1 >= args.Length) throw new UsageException($"{name} needs a value.");
                options[name] = args[++i];
            }
            else throw new UsageException($"unknown option \"{name}\".");
        }

        return options;
    }

    /// <summary>A positive whole number.</summary>
    public static int PositiveInt(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n : throw new UsageException($"{name} must be a positive whole number, not \"{value}\".");

    /// <summary>A duration as ghz and hey write it: 500ms, 15s, 2m, or a bare number of seconds.</summary>
    public static TimeSpan Duration(string name, string value)
    {
        (string number, double unitSeconds) = value switch
        {
            _ when value.EndsWith("ms", StringComparison.Ordinal) => (value[..^2], 0.001),
            _ when value.EndsWith('s') => (value[..^1], 1.0),
            _ when value.EndsWith('m') => (value[..^1], 60.0),
            _ => (value, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double n) || !double.IsFinite(n))
            throw new UsageException($"{name} must be a duration such as 500ms, 15s or 2m, not \"{value}\".");
        return TimeSpan.FromSeconds(n * unitSeconds);
    }
}
