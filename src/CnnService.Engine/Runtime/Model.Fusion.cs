using CnnService.Engine.Format;
using CnnService.Engine.Kernels;
using CnnService.Engine.Layers;

namespace CnnService.Engine.Runtime;

public sealed partial class Model
{
    /// <summary>
    /// The elementwise fusions beyond a ReLU in a GEMM's store, decided once the layers are built: each one
    /// saves a pass over an activation, which for these memory-bound ops is most of their cost.
    /// (1) A sigmoid read only by a mul of it and its own input is SiLU: the mul computes x * sigmoid(x)
    /// and the sigmoid runs nothing; likewise hardswish's gate (a hard sigmoid of slope 1/6) and its mul.
    /// (2) A clip, an unfused ReLU, a SiLU or a hardswish that is the only reader of a
    /// depthwise convolution's output runs in that convolution's store, and so does a clip after a
    /// convolution that runs direct or pointwise tiles, unless a depthwise convolution that copies it in L2
    /// reads it; else, next to a depthwise convolution that is its only reader, it runs in the copy of that
    /// one's input (MobileNet's and EfficientNet's expand, activate, depthwise, activate). (3) A ReLU that is the only
    /// reader of a same-shape add runs in the add's store (ResNet's residual add). A fused layer's
    /// output is its input's buffer. <paramref name="intoConvolutions"/> is off for a plan that training builds
    /// on: its convolutions train with their ReLU only, and the clip after them (or a ReLU after an add) must stay a layer.
    /// </summary>
    private static void FuseActivations(Layer[] layers, int[][] inputs, bool[] fusedAway, bool intoConvolutions)
    {
        int n = layers.Length;
        var gatedOf = new int[n]; // for a mul computing SiLU or hardswish, the tensor it is of; else -1
        Array.Fill(gatedOf, -1);
        int[] readers = CountReaders(inputs, n, fusedAway);
        for (int m = 0; m < n; m++)
        {
            if (layers[m] is not Binary { Type: "mul", CanFuseSelfGate: true } mul) continue;
            int a = inputs[m][0], b = inputs[m][1];
            FusedActivation act = GateOf(b, a);
            int x = a;
            if (act.IsNone) (act, x) = (GateOf(a, b), b);
            if (act.IsNone) continue;
            int gate = (x == a ? b : a) - 1;
            if (readers[gate + 1] != 1) continue; // the gate's output is read elsewhere too
            mul.FuseSelfGate(act);
            fusedAway[gate] = true;
            gatedOf[m] = x;
        }

        for (int i = 0; i < n; i++)
        {
            if (fusedAway[i]) continue;
            FusedActivation act = gatedOf[i] >= 0 ? ((Binary)layers[i]).SelfGate : layers[i] is Activation a ? a.AsFused : FusedActivation.None;
            if (act.IsNone) continue;
            readers = CountReaders(inputs, n, fusedAway);
            int x = gatedOf[i] >= 0 ? gatedOf[i] : inputs[i][0];
            if (x > 0 && layers[x - 1] is BatchNorm && fusedAway[x - 1]) x = inputs[x - 1][0]; // a folded batchnorm's output is its convolution's
            int own = gatedOf[i] >= 0 ? 2 : 1; // a SiLU or hardswish mul reads x twice: itself and through its gate
            if (x > 0 && layers[x - 1] is DepthwiseConv2D before && !fusedAway[x - 1] && before.FusedOutput.IsNone && readers[x] == own)
            {
                before.Fuse(FusedActivation.None, act);
                fusedAway[i] = true;
            }
            else if (intoConvolutions && act.Kind == FusedActivationKind.Clamp && x > 0 && layers[x - 1] is Conv2D conv && !fusedAway[x - 1] && conv.CanFuseOutput
                     && readers[x] == own && !CopiedCheaply(i + 1))
            {
                conv.FuseOutput(act);
                fusedAway[i] = true;
            }
            else if (intoConvolutions && act == FusedActivation.Relu && x > 0 && layers[x - 1] is Binary { CanFuseRelu: true, FusedRelu: false } add
                     && !fusedAway[x - 1] && readers[x] == own)
            {
                add.FuseRelu();
                fusedAway[i] = true;
            }
            else if (readers[i + 1] == 1 && OnlyReader(i + 1) is int r && layers[r] is DepthwiseConv2D after && !fusedAway[r] && after.FusedInput.IsNone)
            {
                after.Fuse(act, FusedActivation.None);
                fusedAway[i] = true;
            }
        }

        // A depthwise convolution that is tensor t's only reader, and copies it in L2: the activation costs it about as much
        // there as in the tiles' store (where a clip adds two instructions a vector). One whose input outgrows L2 copies it
        // from L3, where the activation's vectors cost more: MobileNet V2's 112x112 stride-2 layer 0.28 -> 0.18 ms with
        // the clip in its expansion's tiles, the expansion 0.27 -> 0.29 (one thread, AMD EPYC Zen 5). A SiLU is not moved
        // into tiles: its vector code beside 28 live accumulators spills (EfficientNet-B0's 112x112 expansion 0.28 -> 0.71 ms
        // against its depthwise's 0.57 -> 0.26).
        bool CopiedCheaply(int t) =>
            readers[t] == 1 && OnlyReader(t) is int r && layers[r] is DepthwiseConv2D d && !fusedAway[r] && d.FusedInput.IsNone
            && (long)d.InputShape.Size * sizeof(float) <= BatchChunking.L2Bytes;

        // What mul(x, t) computes as one activation when t is a gate of x (SiLU, hardswish); else none.
        FusedActivation GateOf(int t, int x) =>
            t > 0 && layers[t - 1] is Activation g && !fusedAway[t - 1] && inputs[t - 1][0] == x ? g.TimesItsInput : FusedActivation.None;

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

    /// <summary>
    /// The batchnorms folded into the convolution they read, by layer: each one that is the only reader of a conv2d's output.
    /// The convolution then computes y = (W x + b) * scale + shift with W * scale and b * scale + shift as its weights and
    /// bias, and the batchnorm runs nothing: one pass over the activation saved, and the ReLU after it can fuse in too.
    /// Folded results differ from the layers run one by one only by rounding.
    /// </summary>
    private static bool[] FoldableBatchNorms(ModelSpec spec, int[][] inputs, int[] readers)
    {
        var folded = new bool[spec.Layers.Count];
        for (int i = 0; i < folded.Length; i++)
        {
            int t = inputs[i][0];
            folded[i] = spec.Layers[i].Type == "batchnorm" && t > 0 && readers[t] == 1 && spec.Layers[t - 1].Type == "conv2d";
        }

        return folded;
    }

    /// <summary>
    /// Convolution <paramref name="conv"/> (layer <paramref name="index"/>) built again with <paramref name="bn"/> folded into it:
    /// each output channel's kernel times scale[c], and bias[c] * scale[c] + shift[c] as its bias (zero bias for one without),
    /// computed in double and rounded once. It takes its tensors as taken for the layer as written, so the source is read once.
    /// </summary>
    private static Layer FoldBatchNorm(LayerSpec conv, int index, TensorShape input, BatchNorm bn, TakenWeights taken, SimdLevel simd, bool fuseRelu, ConvLowering? lowering)
    {
        string weightName = $"{conv.Name}.weight", biasName = $"{conv.Name}.bias";
        float[] w = taken.Get(weightName);
        float[]? b = conv.UseBias ? taken.Get(biasName) : null;
        ReadOnlySpan<float> scale = bn.Scale, shift = bn.Shift;
        int m = scale.Length, per = w.Length / m;
        var weight = new float[w.Length];
        var bias = new float[m];
        for (int c = 0; c < m; c++)
        {
            double s = scale[c];
            for (int j = c * per; j < (c + 1) * per; j++) weight[j] = (float)(w[j] * s);
            bias[c] = (float)((b is null ? 0.0 : b[c]) * s + shift[c]);
        }

        var folded = new Dictionary<string, float[]>(StringComparer.Ordinal) { [weightName] = weight, [biasName] = bias };
        return LayerFactory.Create(conv.WithBias(), index, [input], new TensorWeights(folded), simd, fuseRelu, lowering);
    }

    /// <summary>The source the layers are built from, remembering the tensors of the convolutions named (those a batchnorm
    /// is folded into): a folded convolution starts from them. The rest are not held, so each can go once its layer is packed.</summary>
    private sealed class TakenWeights(IWeightSource inner, HashSet<string> remembered) : IWeightSource
    {
        private readonly Dictionary<string, float[]> _taken = new(StringComparer.Ordinal);

        public float[] Take(string name, params int[] shape)
        {
            float[] tensor = inner.Take(name, shape);
            if (remembered.Contains(name)) _taken[name] = tensor;
            return tensor;
        }

        public void Ignore(string name) => inner.Ignore(name);

        public void EnsureAllTaken() => inner.EnsureAllTaken();

        public float[] Get(string name) => _taken[name];
    }
}
