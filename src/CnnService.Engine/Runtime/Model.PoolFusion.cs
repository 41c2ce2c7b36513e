using CnnService.Engine.Layers;

namespace CnnService.Engine.Runtime;

public sealed partial class Model
{
    /// <summary>
    /// A max pool that is the only reader of a convolution's output (through the ReLU fused into it, if any) runs
    /// inside the convolution when it can (<see cref="Conv2D.TryFusePool"/>: a 2x2 one, or a 3x3 stride-2 one after direct
    /// rows): the full-size map is then never written nor read back. Keras' MNIST network spent a fifth of its pass
    /// pooling; SqueezeNet's runs 1 % faster with its stem pool inside (paired, AMD Zen 5). A max pool that is the only
    /// reader of a concat runs inside the convolutions making its parts (<see cref="PoolConcatParts"/>). Decided after the
    /// other fusions, which it reads through; inference only, since training keeps every layer's own output.
    /// </summary>
    private static void FusePools(Layer[] layers, int[][] inputs, bool[] fusedAway)
    {
        for (int i = 0; i < layers.Length; i++)
        {
            if (fusedAway[i] || layers[i] is not MaxPool2D pool) continue;
            int t = Producer(inputs[i][0], inputs, fusedAway); // a fused ReLU or folded batchnorm stands for its convolution
            int[] readers = CountReaders(inputs, layers.Length, fusedAway);
            if (t == 0 || readers[t] != 1) continue;
            if (layers[t - 1] is Conv2D conv ? conv.TryFusePool(pool) : layers[t - 1] is Concat && PoolConcatParts(layers, inputs, fusedAway, readers, t - 1, pool))
                fusedAway[i] = true;
        }
    }

    /// <summary>
    /// A max pool commutes with a channel concat: pooling the joined map pools each part. So a 3x3 stride-2 max pool that alone
    /// reads a concat whose every part is a convolution's output that only the concat reads (SqueezeNet's fires 3 and 5,
    /// GoogLeNet's inception 3b) runs inside each of those convolutions, on their direct rows as they are made; the concat
    /// then joins the pooled parts (a quarter of the copy; in a pass of one image, nothing: the parts are written in place)
    /// and the pool runs nothing. A 1x1 part planned as pointwise tiles runs direct rows instead, the same tiles by rows.
    /// All parts or none: nothing changes unless every part can. squeezenet1_1 at batch 1 on two threads (paired in one process,
    /// the same bits, AMD EPYC Zen 4): 11 % faster with the two vCPUs far apart (4.55 against 5.11 ms), about 1 % near; on one
    /// thread and at batch 8 within 0.5 %; googlenet 0.2-0.5 %. Returns whether it did.
    /// </summary>
    private static bool PoolConcatParts(Layer[] layers, int[][] inputs, bool[] fusedAway, int[] readers, int c, MaxPool2D pool)
    {
        int[] parts = inputs[c];
        var convs = new Conv2D[parts.Length];
        var made = new int[parts.Length]; // each part's convolution's tensor
        for (int k = 0; k < parts.Length; k++)
        {
            int t = made[k] = Producer(parts[k], inputs, fusedAway);
            if (t == 0 || readers[t] != 1 || layers[t - 1] is not Conv2D conv) return false; // a part joined twice has two readers
            if (!conv.CanPoolRows(pool) && conv.StandsAlone && conv.Candidates.Contains(ConvLowering.Direct)) conv = conv.WithLowering(ConvLowering.Direct);
            if (!conv.CanPoolRows(pool)) return false;
            convs[k] = conv;
        }

        var pooled = new TensorShape[parts.Length];
        for (int k = 0; k < parts.Length; k++)
        {
            layers[made[k] - 1] = convs[k];
            if (!convs[k].TryFusePool(pool)) throw new InvalidOperationException($"{convs[k].Name} could pool its rows a moment ago.");
            pooled[k] = new TensorShape(convs[k].OutputShape.C, pool.OutputShape.H, pool.OutputShape.W);
        }

        layers[c] = new Concat(layers[c].Name, $"concat {layers[c].Name} pooled", pooled);
        return true;
    }
}
