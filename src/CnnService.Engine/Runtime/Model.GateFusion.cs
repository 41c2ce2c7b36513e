using CnnService.Engine.Layers;

namespace CnnService.Engine.Runtime;

public sealed partial class Model
{
    /// <summary>
    /// A squeeze-and-excitation scaling (a mul of a [C, H, W] map by a [C, 1, 1] gate) whose only reader is a 1x1 convolution
    /// that can take the gate into its weights (<see cref="Conv2D.CanFuseGate"/>) runs nothing: the convolution reads the map
    /// and the gate. Returns the inputs the plan gives each layer: the convolution's become [map, gate], and the mul's [map],
    /// so that its output, which it no longer writes, is the map's buffer. The layers' own inputs (<see cref="InputsOf"/>,
    /// <see cref="Trace"/>) stay as written. Inference only, after the other fusions. EfficientNet-B0 at batch 1 1.0-1.6 % faster
    /// on one thread and 2.4 % on two (paired in one process, AMD Zen 5): its three projections on 112x112 and 56x56.
    /// </summary>
    private static int[][] FuseGates(Layer[] layers, int[][] inputs, bool[] fusedAway)
    {
        int n = layers.Length;
        var planInputs = (int[][])inputs.Clone();
        int[] readers = CountReaders(inputs, n, fusedAway);
        for (int m = 0; m < n; m++)
        {
            if (fusedAway[m] || layers[m] is not Binary mul || readers[m + 1] != 1) continue;
            int k = mul.GatedMapInput;
            if (k < 0) continue;
            int map = inputs[m][k], gate = inputs[m][1 - k];
            if (map == 0 || gate == 0) continue; // the plan sizes the model's input by the shapes its readers take it as
            int c = Array.FindIndex(inputs, m + 1, ins => Array.IndexOf(ins, m + 1) >= 0);
            if (c < 0 || fusedAway[c] || layers[c] is not Conv2D { CanFuseGate: true } conv || inputs[c] is not [_]) continue;
            conv.FuseGate();
            fusedAway[m] = true;
            planInputs[m] = [map];
            planInputs[c] = [m + 1, gate];
        }

        return planInputs;
    }
}
