namespace CnnService.Tests.Support;

/// <summary>
/// The repository's committed files, found by walking up from the test assembly to the folder that
/// holds <c>CnnService.sln</c>, so the tests read the very files of the checkout they were built in.
/// </summary>
internal static class Fixtures
{
    private static readonly Lazy<string> RepoRoot = new(FindRoot);

    public static string Repo => RepoRoot.Value;

    /// <summary>The shipped, trained models.</summary>
    public static string Models => Path.Combine(Repo, "models");

    public static string Root => Path.Combine(Repo, "tests", "fixtures");

    /// <summary>The first 2,000 training and 1,000 test images of MNIST, gzipped IDX.</summary>
    public static string MnistSmall => Path.Combine(Root, "mnist-small");

    public static string FashionMnistSmall => Path.Combine(Root, "fashion-mnist-small");

    private static string FindRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CnnService.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"No CnnService.sln above {AppContext.BaseDirectory}.");
    }
}
