using CnnService.Engine.Data;
using CnnService.Engine.Evaluation;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Evaluation;

public class EvaluatorTests
{
    private static readonly IdxDataset Mnist = IdxDataset.Open(Fixtures.MnistSmall, DatasetSplit.Test);

    [Fact]
    public void Accuracy_confusion_and_loss_equal_a_straightforward_computation()
    {
        Model model = KerasMnist(seed: 3);
        const int batch = 300;   // 1,000 items: three full batches and a partial one

        EvaluationResult result = Evaluator.Evaluate(model, Mnist, batch);

        // Independently: normalise by the spec's formula, forward the same batches, argmax, count.
        var confusion = new int[10, 10];
        double loss = 0;
        InputSpec spec = model.Spec.Input;
        for (int start = 0; start < Mnist.Count; start += batch)
        {
            int n = Math.Min(batch, Mnist.Count - start);
            var input = new float[n * 784];
            var pixels = new float[784];
            for (int i = 0; i < n; i++)
            {
                Mnist.CopyPixels(start + i, pixels);
                for (int p = 0; p < 784; p++) input[i * 784 + p] = (pixels[p] * spec.Scale - spec.Mean[0]) / spec.Std[0];
            }

            float[] output = TestModels.Forward(model, input, n);
            for (int i = 0; i < n; i++)
            {
                float[] probabilities = output[(i * 10)..((i + 1) * 10)];
                int predicted = Array.IndexOf(probabilities, probabilities.Max());
                int actual = Mnist.Label(start + i);
                confusion[actual, predicted]++;
                loss += -Math.Log(Math.Max(probabilities[actual], 1e-7));
            }
        }

        int correct = Enumerable.Range(0, 10).Sum(c => confusion[c, c]);
        Assert.Equal(confusion, result.Confusion);
        Assert.Equal(1000, result.Count);
        Assert.Equal(correct, result.Correct);
        Assert.Equal(correct / 1000.0, result.Accuracy);
        Assert.Equal(loss / 1000, result.Loss, 1e-9);
    }

    [Fact]
    public void Per_class_counts_are_the_label_counts_and_accuracies_the_confusion_diagonal()
    {
        EvaluationResult result = Evaluator.Evaluate(KerasMnist(seed: 4), Mnist);

        Assert.Equal([85, 126, 116, 107, 110, 87, 87, 99, 89, 94], result.PerClass.Select(c => c.Count));
        for (int c = 0; c < 10; c++)
        {
            Assert.Equal(Mnist.Classes[c], result.PerClass[c].Name);
            Assert.Equal(result.Confusion[c, c], result.PerClass[c].Correct);
            Assert.Equal(result.Confusion[c, c] / (double)result.PerClass[c].Count, result.PerClass[c].Accuracy);
        }
    }

    [Fact]
    public void The_result_names_the_model_the_dataset_and_its_classes()
    {
        EvaluationResult result = Evaluator.Evaluate(KerasMnist(seed: 5), DatasetSubset.First(Mnist, 20));

        Assert.Equal("mnist", result.ModelName);
        Assert.Equal("mnist-small (t10k), first 20", result.DatasetName);
        Assert.Equal(Mnist.Classes, result.Classes);
        Assert.Equal(20, result.Count);
    }

    [Fact]
    public void A_random_model_loses_about_ln_10_per_item()
    {
        // Freshly initialised weights give nearly uniform probabilities: cross-entropy near ln 10 = 2.303.
        EvaluationResult result = Evaluator.Evaluate(KerasMnist(seed: 6), Mnist);

        Assert.InRange(result.Loss, 2.0, 2.7);
    }

    [Fact]
    public void A_dataset_of_another_shape_is_refused_naming_both_shapes()
    {
        ModelSpec spec = Architectures.TinyVgg();
        Model model = Model.Create(spec, WeightInitializer.Initialize(spec, 1), new EngineOptions { Threads = 1 });

        var e = Assert.Throws<ArgumentException>(() => Evaluator.Evaluate(model, Mnist));

        Assert.Equal("mnist-small (t10k): items are [1,28,28], but model 'tinyvgg' takes [3,64,64].", e.Message);
    }

    [Fact]
    public void A_dataset_with_another_number_of_classes_is_refused()
    {
        IdxDataset eleven = IdxDataset.Open(Fixtures.MnistSmall, DatasetSplit.Test, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]);

        var e = Assert.Throws<ArgumentException>(() => Evaluator.Evaluate(KerasMnist(seed: 1), eleven));

        Assert.Equal("mnist-small (t10k): 11 classes, but model 'mnist' outputs 10 values per item.", e.Message);
    }

    private static Model KerasMnist(int seed)
    {
        ModelSpec spec = Architectures.KerasMnist();
        return Model.Create(spec, WeightInitializer.Initialize(spec, seed), new EngineOptions { Threads = 2 });
    }
}
