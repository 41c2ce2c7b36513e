namespace CnnService.Engine.Data;

/// <summary>
/// What a <c>--data</c> value means. The names <c>mnist</c> and <c>fashion-mnist</c> are the
/// datasets <c>scripts/fetch-data.sh</c> fetches, found under a data root with their class
/// names; anything else is a directory in MNIST's layout (<see cref="IdxDataset"/>), read with
/// classes "0".."n-1" (write <c>./mnist</c> for a directory that happens to be called <c>mnist</c>).
/// The data root is, in order: the one given, the environment variable <see cref="DataRootVariable"/>,
/// the <c>data/</c> folder of the nearest ancestor of the current directory that holds that
/// dataset (so any folder of a checkout finds the fetched data), else <c>./data</c>.
/// </summary>
public static class DatasetCatalog
{
    public const string DataRootVariable = "CNN_DATA_ROOT";

    /// <summary>The folder under a repository (or any ancestor) that holds fetched datasets.</summary>
    public const string DataFolder = "data";

    /// <summary>The command, run from the repository root, that fetches a named dataset.</summary>
    public const string FetchScript = "scripts/fetch-data.sh";

    private static readonly string[] Digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// <summary>Zalando's Fashion-MNIST classes, in label order.</summary>
    private static readonly string[] FashionClasses =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    public static IReadOnlyList<string> Names { get; } = ["mnist", "fashion-mnist"];

    /// <summary>The class names of a known dataset, or null when <paramref name="name"/> is not one.</summary>
    public static IReadOnlyList<string>? ClassesOf(string name) => name switch
    {
        "mnist" => Digits,
        "fashion-mnist" => FashionClasses,
        _ => null,
    };

    public static bool IsKnown(string name) => ClassesOf(name) is not null;

    /// <summary>Opens one split of a known dataset or of a dataset directory.</summary>
    public static IDataset Open(string nameOrDirectory, DatasetSplit split, string? dataRoot = null) =>
        IdxDataset.Open(DirectoryOf(nameOrDirectory, dataRoot), split, ClassesOf(nameOrDirectory));

    /// <summary>
    /// The directory <paramref name="nameOrDirectory"/> stands for. A known name whose folder does not exist
    /// fails with the command that fetches it; a directory is returned as given (opening it checks it).
    /// </summary>
    public static string DirectoryOf(string nameOrDirectory, string? dataRoot = null) =>
        DirectoryOf(nameOrDirectory, dataRoot, Environment.GetEnvironmentVariable(DataRootVariable), Directory.GetCurrentDirectory());

    /// <summary><see cref="DirectoryOf(string, string?)"/> with the environment variable's value and the current directory given, for tests.</summary>
    internal static string DirectoryOf(string nameOrDirectory, string? dataRoot, string? environmentRoot, string currentDirectory)
    {
        if (!IsKnown(nameOrDirectory)) return nameOrDirectory;
        string root = DataRoot(nameOrDirectory, dataRoot, environmentRoot, currentDirectory);
        string directory = Path.Combine(root, nameOrDirectory);
        if (!Directory.Exists(directory))
        {
            throw new DatasetFormatException(
                $"{directory}: the {nameOrDirectory} dataset is not there; fetch it with '{FetchScript} {nameOrDirectory}' from the repository root " +
                $"(or point --data-root or {DataRootVariable} at the folder holding {nameOrDirectory}/)");
        }

        return directory;
    }

    /// <summary>The data root for the known dataset <paramref name="name"/>, by the rule in the class summary.</summary>
    internal static string DataRoot(string name, string? dataRoot, string? environmentRoot, string currentDirectory)
    {
        if (!string.IsNullOrEmpty(dataRoot)) return dataRoot;
        if (!string.IsNullOrEmpty(environmentRoot)) return environmentRoot;
        return NearestDataFolder(currentDirectory, name) ?? Path.Combine(currentDirectory, DataFolder);
    }

    /// <summary>
    /// The nearest <c>data/</c> folder at or above <paramref name="from"/> (that holds <paramref name="holding"/>,
    /// when given), or null: how a checkout finds its fetched datasets from anywhere inside it.
    /// </summary>
    public static string? NearestDataFolder(string from, string? holding = null)
    {
        for (DirectoryInfo? dir = new(from); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, DataFolder);
            if (Directory.Exists(holding is null ? candidate : Path.Combine(candidate, holding))) return candidate;
        }

        return null;
    }
}
