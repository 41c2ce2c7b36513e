using CnnService.Engine.Format;

namespace CnnService.Engine.Runtime;

/// <summary>
/// Fresh weights for an architecture: by default as PyTorch initialises Conv2d and Linear
/// (kaiming_uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and
/// biases), or as Keras does (<see cref="WeightInit.Glorot"/>); batchnorm as the identity. Seeded,
/// so the same seed gives the same tensors.
/// Shapes come from planning the real layers, so they can never disagree with what loading expects.
/// </summary>
public static class WeightInitializer
{
    public static WeightSet Initialize(ModelSpec spec, int seed, WeightInit init = WeightInit.PyTorch)
    {
        var batchNorms = spec.Layers.Where(l => l.Type == "batchnorm").Select(l => l.Name!).ToHashSet();
        var source = new RandomSource(seed, batchNorms, init);
        Model.Create(spec, source, EngineOptions.Default with { Threads = 1 });
        return WeightSet.FromTensors(source.Tensors, "<initialized>");
    }

    private sealed class RandomSource(int seed, HashSet<string> batchNorms, WeightInit init) : IWeightSource
    {
        private readonly Random _random = new(seed);
        private long _lastFanIn = 1;

        public List<NamedTensor> Tensors { get; } = [];

        public float[] Take(string name, params int[] shape)
        {
            long count = 1;
            foreach (int d in shape) count *= d;
            var data = new float[count];
            string layer = name[..name.LastIndexOf('.')], tensor = name[(layer.Length + 1)..];
            if (batchNorms.Contains(layer))
            {
                if (tensor is "weight" or "running_var") Array.Fill(data, 1f);
            }
            else
            {
                // A bias shares its weight's fan_in; layers take the weight first.
                if (tensor == "weight") _lastFanIn = Math.Max(1, count / shape[0]);
                float bound = init == WeightInit.PyTorch ? 1f / MathF.Sqrt(_lastFanIn)
                    : tensor == "weight" ? MathF.Sqrt(6f / (_lastFanIn + FanOut(shape)))
                    : 0f; // Keras starts biases at zero
                if (bound != 0)
                    for (long i = 0; i < count; i++) data[i] = (float)(_random.NextDouble() * 2 - 1) * bound;
            }

            Tensors.Add(new NamedTensor(name, shape, data));
            return data;
        }

        /// <summary>[out, in, kh, kw] or [out, in]: outputs times the receptive field, as Keras counts it.</summary>
        private static long FanOut(int[] shape)
        {
            long receptive = 1;
            for (int d = 2; d < shape.Length; d++) receptive *= shape[d];
            return shape[0] * receptive;
        }

        public void Ignore(string name)
        {
        }

        public void EnsureAllTaken()
        {
        }
    }
}
