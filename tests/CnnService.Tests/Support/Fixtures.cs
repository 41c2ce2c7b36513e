namespace CnnService.Tests.Support;

/// <summary>
/// The committed fixtures in <c>tests/fixtures/</c> and the shipped models in <c>models/</c>, found by
/// walking up from the test assembly to the folder holding <c>CnnService.sln</c>: the tests read the
/// very files in the checkout, from any build folder.
/// </summary>
public static class Fixtures
{
    private static readonly Lazy<string> RootDirectory = new(FindRoot);

    /// <summary>The repository's root.</summary>
    public static string Repository => RootDirectory.Value;

    /// <summary>The repository's <c>tests/fixtures</c> folder.</summary>
    public static string Root => Path.Combine(Repository, "tests", "fixtures");

    /// <summary>The image fixtures (<c>scripts/make-image-fixtures.sh</c>).</summary>
    public static string Images => Path.Combine(Root, "images");

    /// <summary>The first 2,000 training and 1,000 test images of MNIST, gzipped IDX.</summary>
    public static string MnistSmall => Path.Combine(Root, "mnist-small");

    /// <summary>The same slice of Fashion-MNIST.</summary>
    public static string FashionMnistSmall => Path.Combine(Root, "fashion-mnist-small");

    /// <summary>The shipped, trained models.</summary>
    public static string Models => Path.Combine(Repository, "models");

    public static string Image(string name) => Path.Combine(Images, name);

    /// <summary>An ONNX fixture of <c>tests/fixtures/onnx/proto</c> (scripts/make-onnx-proto-fixtures.py).</summary>
    public static string OnnxProto(string name) => Path.Combine(Root, "onnx", "proto", name);

    private static string FindRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CnnService.sln"))) return dir.FullName;
        }

        throw new DirectoryNotFoundException($"No CnnService.sln above {AppContext.BaseDirectory}: the tests read tests/fixtures from the checkout they were built in.");
    }
}
