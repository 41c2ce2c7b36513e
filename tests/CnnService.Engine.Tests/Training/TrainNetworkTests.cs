using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;
using CnnService.Engine.Training;

namespace CnnService.Engine.Tests.Training;

public class TrainNetworkTests
{
    [Theory]
    [InlineData("keras-mnist")]
    [InlineData("lenet5")]
    public void Evaluate_then_softmax_equals_the_inference_model(string arch)
    {
        AssertEvaluateMatchesInference(Architectures.Get(arch), trainSteps: 0);
    }

    /// <summary>
    /// Runs <paramref name="trainSteps"/> training forward passes first (they move batchnorm's running
    /// statistics), then holds Evaluate + softmax to a Model built from the exported tensors.
    /// </summary>
    private static void AssertEvaluateMatchesInference(ModelSpec spec, int trainSteps)
    {
        const int batch = 3;
        TrainNetwork network = TrainNetwork.Create(spec, WeightInitializer.Initialize(spec, 7), maxBatch: 4);
        int size = network.InputShape.Size;
        for (int step = 0; step < trainSteps; step++)
        {
            TestModels.Random(4 * size, seed: 100 + step, scale: 2f).CopyTo(network.Input);
            network.Step([0, 1, 2, 0], (ulong)step, out _);
        }

        float[] x = TestModels.Random(batch * size, seed: 8);
        x.CopyTo(network.Input);
        float[] logits = network.Evaluate(batch).ToArray();
        Model model = Model.Create(spec, WeightSet.FromTensors(network.ExportTensors()));

        TestModels.AssertClose(TestModels.Forward(model, x, batch), Reference.Softmax(logits, batch, network.Classes, 1), 1e-4f);
    }
}
