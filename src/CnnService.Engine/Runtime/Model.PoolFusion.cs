using CnnService.Engine.Layers;

namespace CnnService.Engine.Runtime;

public sealed partial class Model
{
    /// <summary>
    /// A max pool that is the only reader of a convolution's output (through the ReLU fused into it, if any) runs
    /// inside the convolution when it can (<see cref="Conv2D.TryFusePool"/>: a 2x2 one, or a 3x3 stride-2 one after direct
    /// rows): the full-size map is then never written nor read back. Keras' MNIST network spent a fifth of its pass
    /// pooling; SqueezeNet's runs 1 % faster with its stem pool inside (paired, AMD Zen 5). Decided after the other fusions, which it
    /// reads through; inference only, since training keeps every layer's own output.
    /// </summary>
    private static void FusePools(Layer[] layers, int[][] inputs, bool[] fusedAway)
    {
        for (int i = 0; i < layers.Length; i++)
        {
            if (fusedAway[i] || layers[i] is not MaxPool2D pool) continue;
            int t = inputs[i][0];
            while (t > 0 && fusedAway[t - 1]) t = inputs[t - 1][0]; // a fused ReLU or folded batchnorm stands for its convolution
            if (t == 0 || layers[t - 1] is not Conv2D conv || CountReaders(inputs, layers.Length, fusedAway)[t] != 1) continue;
            if (conv.TryFusePool(pool)) fusedAway[i] = true;
        }
    }
}
