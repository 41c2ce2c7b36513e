namespace CnnService.Engine.Tests.Support;

/// <summary>
/// The committed fixtures in <c>tests/fixtures/</c>, found by walking up from the test assembly to
/// the repository root (the folder holding <c>CnnService.sln</c>). Nothing is copied to the build
/// output, so the tests read the very files in the checkout, from any clean clone and any build folder.
/// </summary>
internal static class Fixtures
{
    private static readonly Lazy<string> RootDirectory = new(FindRoot);

    /// <summary>The repository's <c>tests/fixtures</c> folder.</summary>
    public static string Root => RootDirectory.Value;

    /// <summary>The repository's <c>models/</c> folder: the shipped, trained models.</summary>
    public static string Models => Path.GetFullPath(Path.Combine(Root, "..", "..", "models"));

    /// <summary>The first 2,000 training and 1,000 test images of MNIST, gzipped IDX.</summary>
    public static string MnistSmall => Path.Combine(Root, "mnist-small");

    /// <summary>The first 2,000 training and 1,000 test images of Fashion-MNIST, gzipped IDX.</summary>
    public static string FashionMnistSmall => Path.Combine(Root, "fashion-mnist-small");

    public static string File(string dataset, string name) => Path.Combine(Root, dataset, name);

    /// <summary>Copies a fixture folder to <paramref name="destination"/> (created), e.g. to give it a catalog name.</summary>
    public static void CopyTo(string fixture, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (string file in Directory.GetFiles(fixture)) System.IO.File.Copy(file, Path.Combine(destination, Path.GetFileName(file)));
    }

    private static string FindRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "CnnService.sln")))
                return Path.Combine(dir.FullName, "tests", "fixtures");
        }

        throw new DirectoryNotFoundException($"No CnnService.sln above {AppContext.BaseDirectory}: the tests read tests/fixtures from the checkout they were built in.");
    }
}
