using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Runtime;

public class ConcurrencyTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Eight_threads_on_one_model_match_single_threaded_results_bit_for_bit(int threadsPerCall)
    {
        var spec = Architectures.KerasMnist();
        Model model = Model.Create(spec, WeightInitializer.Initialize(spec, 1), new EngineOptions { Threads = threadsPerCall });
        const int Inputs = 16;
        int size = model.InputShape.Size;
        // Batches of 1 to 3 split each layer across threads; batches of 20 split the batch itself.
        float[][] inputs = Enumerable.Range(0, Inputs).Select(i => TestModels.Random((i % 4 == 3 ? 20 : (i % 4) + 1) * size, seed: 100 + i)).ToArray();
        float[][] expected = inputs.Select(x => TestModels.Forward(model, x, x.Length / size)).ToArray();

        var failures = new List<string>();
        var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
        {
            for (int call = 0; call < 200; call++)
            {
                int i = (call * 7 + t) % Inputs;
                float[] actual = TestModels.Forward(model, inputs[i], inputs[i].Length / size);
                if (!actual.AsSpan().SequenceEqual(expected[i]))
                {
                    lock (failures) failures.Add($"thread {t}, call {call}, input {i}");
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.Empty(failures);
    }
}
