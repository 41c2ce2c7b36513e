using CnnService.Engine.Layers;

namespace CnnService.Engine.Runtime;

public sealed partial class Model
{
    /// <summary>Bytes of one image's expansion output from which the depthwise layer reading it runs it in bands: twice the L2,
    /// maps whose stores and reads otherwise go out to L3 or memory. On a 1 MB L2 (AMD EPYC Zen 5), MobileNet V2's 96 x 112x112
    /// expansion (4.8 MB) and its depthwise layer together 0.548 -> 0.498 ms at batch 1 on one thread (bands recomputing the rows
    /// two bands share; they now move them); its 144 x 56x56 ones (1.8 MB) no faster (0.252 -> 0.270 ms stride 1, 0.203 -> 0.195
    /// stride 2).</summary>
    internal static long BandedExpansionBytes => 2 * BatchChunking.L2Bytes;

    /// <summary>
    /// A 1x1 expansion (pointwise tiles) whose output, at least <see cref="BandedExpansionBytes"/> an image, only a depthwise
    /// convolution reads (through the activations fused into that one's input) runs inside the depthwise convolution, a band
    /// of rows at a time (<see cref="DepthwiseConv2D.Expansion"/>). The expansion then runs nothing on its own, and the
    /// depthwise convolution reads the expansion's input: the plan gives both that input. Inference only, after the other fusions.
    /// </summary>
    private static void FuseExpansions(Layer[] layers, bool[] fusedAway, int[][] planInputs)
    {
        int n = layers.Length;
        for (int d = 0; d < n; d++)
        {
            if (fusedAway[d] || layers[d] is not DepthwiseConv2D dw || planInputs[d] is not [int t]) continue;

            // Back through the layers fused into this one's input (a clip; SiLU's or hardswish's mul and its gate) to the tensor they read.
            var chain = new List<int>();
            int x = t;
            while (x > 0 && fusedAway[x - 1] && layers[x - 1] is Activation or Binary { SelfGate.IsNone: false })
            {
                chain.Add(x);
                x = planInputs[x - 1][0];
            }

            if (x <= 0 || fusedAway[x - 1] || layers[x - 1] is not Conv2D conv || planInputs[x - 1] is not [int u] || u <= 0) continue;
            if ((long)conv.OutputShape.Size * sizeof(float) < BandedExpansionBytes || !dw.CanTakeExpansion(conv)) continue;
            chain.Add(x);

            // And the fused layers those read besides (SiLU's sigmoid or hardswish's gate, read by its mul); not the expansion's own input.
            for (int k = 0; k < chain.Count; k++)
            {
                if (chain[k] == x) continue;
                foreach (int r in planInputs[chain[k] - 1])
                    if (r > 0 && r != x && fusedAway[r - 1] && !chain.Contains(r)) chain.Add(r);
            }
            if (ReadElsewhere(chain, d)) continue;
            dw.TakeExpansion(conv);
            fusedAway[x - 1] = true;
            planInputs[x - 1] = [u];
            planInputs[d] = [u];
        }

        // Whether a tensor of the chain is the model's output or read by a layer that is neither in the chain nor d.
        bool ReadElsewhere(List<int> tensors, int d)
        {
            if (tensors.Contains(n)) return true;
            for (int j = 0; j < n; j++)
            {
                if (j == d || tensors.Contains(j + 1)) continue;
                foreach (int r in planInputs[j])
                    if (tensors.Contains(r)) return true;
            }

            return false;
        }
    }
}
