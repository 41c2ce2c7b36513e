using CnnService.Engine.Kernels;
using CnnService.Engine.Layers;

namespace CnnService.Engine.Runtime;

public sealed partial class Model
{
    /// <summary>
    /// The elementwise fusions beyond a ReLU in a GEMM's store, decided once the layers are built: each one
    /// saves a pass over an activation, which for these memory-bound ops is most of their cost.
    /// (1) A sigmoid read only by a mul of it and its own input is SiLU: the mul computes x * sigmoid(x)
    /// and the sigmoid runs nothing. (2) A clip, an unfused ReLU or a SiLU next to a depthwise convolution
    /// runs inside it: in its store when it is the only reader of the convolution's output, else in the
    /// copy of its input when the convolution is its only reader (MobileNet's and EfficientNet's
    /// expand, activate, depthwise, activate). A fused layer's output is its input's buffer.
    /// </summary>
    private static void FuseActivations(Layer[] layers, int[][] inputs, bool[] fusedAway)
    {
        int n = layers.Length;
        var siluOf = new int[n]; // for a mul computing SiLU, the tensor it is of; else -1
        Array.Fill(siluOf, -1);
        int[] readers = CountReaders(inputs, n, fusedAway);
        for (int m = 0; m < n; m++)
        {
            if (layers[m] is not Binary { Type: "mul", CanFuseSilu: true } mul) continue;
            int a = inputs[m][0], b = inputs[m][1];
            int x = IsSigmoidOf(b, a) ? a : IsSigmoidOf(a, b) ? b : -1;
            if (x < 0) continue;
            int sigmoid = (x == a ? b : a) - 1;
            if (readers[sigmoid + 1] != 1) continue; // the sigmoid's output is read elsewhere too
            mul.FuseSilu();
            fusedAway[sigmoid] = true;
            siluOf[m] = x;
        }

        for (int i = 0; i < n; i++)
        {
            if (fusedAway[i]) continue;
            FusedActivation act = siluOf[i] >= 0 ? FusedActivation.Silu : layers[i] is Activation a ? a.AsFused : FusedActivation.None;
            if (act.IsNone) continue;
            readers = CountReaders(inputs, n, fusedAway);
            int x = siluOf[i] >= 0 ? siluOf[i] : inputs[i][0];
            int own = siluOf[i] >= 0 ? 2 : 1; // a SiLU reads x twice: itself and through its sigmoid
            if (x > 0 && layers[x - 1] is DepthwiseConv2D before && !fusedAway[x - 1] && before.FusedOutput.IsNone && readers[x] == own)
            {
                before.Fuse(FusedActivation.None, act);
                fusedAway[i] = true;
            }
            else if (readers[i + 1] == 1 && OnlyReader(i + 1) is int r && layers[r] is DepthwiseConv2D after && !fusedAway[r] && after.FusedInput.IsNone)
            {
                after.Fuse(act, FusedActivation.None);
                fusedAway[i] = true;
            }
        }

        bool IsSigmoidOf(int t, int x) => t > 0 && layers[t - 1] is Activation { Type: "sigmoid" } && !fusedAway[t - 1] && inputs[t - 1][0] == x;

        int? OnlyReader(int t)
        {
            int? found = null;
            for (int j = t; j < n; j++)
            {
                if (Array.IndexOf(inputs[j], t) < 0) continue;
                if (found is not null || fusedAway[j]) return null;
                found = j;
            }

            return found;
        }
    }
}
