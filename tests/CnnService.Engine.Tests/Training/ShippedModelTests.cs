using CnnService.Engine.Data;
using CnnService.Engine.Evaluation;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Training;

/// <summary>The trained models in models/ load, and on the committed test fixture reach the accuracy their model.json claims.</summary>
public class ShippedModelTests
{
    /// <summary>Every model version under models/, as "name/version".</summary>
    private static string[] Versions() =>
        Directory.GetFiles(Fixtures.Models, ModelLoader.SpecFile, SearchOption.AllDirectories)
            .Select(spec => Path.GetRelativePath(Fixtures.Models, Path.GetDirectoryName(spec)!).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToArray();

    public static TheoryData<string> ShippedModels() => new(Versions());

    [Fact]
    public void The_repository_ships_the_three_trained_models()
    {
        Assert.Equal(["fashion-mnist/1", "mnist/1", "mnist/2"], Versions());
    }

    [Theory]
    [MemberData(nameof(ShippedModels))]
    public void A_shipped_model_reaches_its_claimed_accuracy_on_the_test_fixture(string version)
    {
        Model model = ModelLoader.Load(Path.Combine(Fixtures.Models, version));
        string dataset = (string)model.Spec.Metrics!["dataset"]!;
        double claimed = (double)model.Spec.Metrics!["test_accuracy"]!;
        string fixture = dataset == "mnist" ? Fixtures.MnistSmall : Fixtures.FashionMnistSmall;

        EvaluationResult result = Evaluator.Evaluate(model, IdxDataset.Open(fixture, DatasetSplit.Test, DatasetCatalog.ClassesOf(dataset)));

        // 1,000 images measure an accuracy p to within a standard error of sqrt(p(1-p)/n): allow four.
        double margin = 4 * Math.Sqrt(claimed * (1 - claimed) / result.Count);
        Assert.True(result.Accuracy >= claimed - margin, $"{version}: {result.Accuracy:P2} on the fixture, {claimed:P2} claimed (margin {margin:P2})");
    }
}
