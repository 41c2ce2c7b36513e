using CnnService.Engine.Data;

namespace CnnService.Cli;

/// <summary>
/// <c>cnn idx-head</c> (hidden): copies the first N items of an IDX file into a new one, gzip-compressed
/// when its name ends in .gz. It is how <c>tests/fixtures/</c> were cut from the real datasets
/// (see <c>scripts/make-fixtures.sh</c>); not listed in <c>cnn --help</c>.
/// </summary>
internal static class IdxHeadCommand
{
    private static readonly OptionSpec CountOption = new("--count", TakesValue: true);

    public static Command Definition { get; } = new(
        "idx-head",
        "copy the first N items of an IDX file (makes test fixtures)",
        """
        usage: cnn idx-head --count N INPUT OUTPUT

        Writes the first N items of the IDX file INPUT (plain or gzip) to OUTPUT, with the first
        dimension set to N; OUTPUT is gzip-compressed when its name ends in .gz. Fails if INPUT
        holds fewer than N items. A maintenance verb: scripts/make-fixtures.sh uses it.

          --count N     how many items to keep
          -h, --help    show this help
        """,
        [CountOption],
        Run,
        Hidden: true);

    private static int Run(ParsedArgs args, TextWriter stdout)
    {
        int count = args.GetInt(CountOption.Name, 0, min: 1);
        if (!args.Has(CountOption.Name)) throw new UsageException("'cnn idx-head' needs --count (see 'cnn idx-head --help')");
        if (args.Positionals.Count != 2) throw new UsageException("'cnn idx-head' needs an INPUT and an OUTPUT file (see 'cnn idx-head --help')");
        string input = args.Positionals[0], output = args.Positionals[1];

        IdxArray source = IdxFile.Read(input);
        if (source.Count < count) throw new CliException($"{input}: holds {source.Count:N0} items, fewer than --count {count:N0}");
        int[] dims = [count, .. source.Dims[1..]];
        var head = new IdxArray(dims, source.Data[..(count * source.ItemSize)]);
        IdxWriter.Write(output, head, gzip: output.EndsWith(".gz", StringComparison.Ordinal));
        stdout.WriteLine($"{output}: {head} from the first {count:N0} items of {input}");
        return ExitCodes.Ok;
    }
}
