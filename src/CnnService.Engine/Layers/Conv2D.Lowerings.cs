using CnnService.Engine.Format;
using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>The lowerings a convolution's shape admits, and the layer planned again with another: what a plan chosen by
/// measurement (<see cref="PlanMeasurement"/>) picks among.</summary>
public sealed partial class Conv2D
{
    /// <summary>
    /// The lowerings that can run a convolution of this shape at <paramref name="simd"/>, the plan's fixed choice first:
    /// <list type="bullet">
    /// <item>1x1, unpadded: channels in the lanes over the flat plane (PointwiseConv; with AVX2, PointwiseGemm256); the plane
    /// is B itself, and small maps (7x7, 13x13, 14x14) fit 14-position tiles (or 8-position blocks) better than 32-column panels. Stride 2 first subsamples its input (C*P copies,
    /// against M*C*P FMAs), unless direct tiles can take the layer (ResNet's downsampling 1x1s): they read every other input of
    /// a row in place, with no gathering pass (resnet18 1.01x on one and two threads, AMD Zen 5), and come first.</item>
    /// <item>tiles of 32 filters (the last maybe 16), a deep enough K, stride 1 or 2 along the row, rows of 7 or at least 14: channels in the
    /// lanes, a row (or two rows of 7) at a time (DirectConv): no im2col, and on 7x7 maps 4 tiles of 14 per image where the GEMM
    /// fills two 32-column panels.</item>
    /// <item>stride 1 on a wide map: GEMM reading B in place (ImplicitGemm; AVX-512 and AVX2).</item>
    /// <item>anything: GEMM with im2col panels packed on the fly (Im2ColPacker), the only lowering at the scalar level.</item>
    /// <item>3x3 at stride 1: Winograd's F(4x4, 3x3) (WinogradConv), a quarter of the multiply-adds; first wherever it suits
    /// (<see cref="WinogradConv.Suits"/>: at least 16 channels in and out, at least 4 x 4 tiles), listed last elsewhere.</item>
    /// </list>
    /// Which is fastest depends on the CPU as well as the shape (MobileNet's 16 -> 96 expansion at 112x112: pointwise tiles on
    /// an Intel Xeon, implicit GEMM on AMD Zen 5), which is what <see cref="PlanMode.Measure"/> settles.
    /// </summary>
    internal static ConvLowering[] LoweringsFor(SimdLevel simd, int m, int k, Window2D win, int paddedW)
    {
        bool stride1 = win.SH == 1 && win.SW == 1, avx512 = simd == SimdLevel.Vector512;
        bool pointwiseRuns = simd is SimdLevel.Vector512 or SimdLevel.Vector256 && win.KH == 1 && win.KW == 1 && !win.HasPadding && PointwiseConv.Runs(win.OH * win.OW);
        bool directRuns = simd is SimdLevel.Vector512 or SimdLevel.Vector256 && DirectConv.Runs(m, win.OH, win.OW, win.SW);
        bool pointwise = pointwiseRuns && PointwiseConv.Suits(m, k, win.OH * win.OW), direct = directRuns && DirectConv.Suits(m, k, win.OH, win.OW, win.SW);
        bool implicitGemm = simd is SimdLevel.Vector512 or SimdLevel.Vector256 && stride1 && ImplicitGemm.Suits(simd, m, paddedW, win.KW);
        // With AVX2 the implicit GEMM's 4 x 24 tiles (4 broadcasts per 12 FMAs) beat the tiles where both can run: on AMD a
        // broadcast takes a floating-point pipe (the 3x3 64->64 layer 87 against 82 % of the peak at their fastest calls, Zen 3,
        // one thread, when the tiles' passes were 2 x 5; with 4 x 3 passes, 3 broadcasts per 12 FMAs, ResNet-18's four such
        // layers still 1.01-1.06x faster on the GEMM, paired in one process). Direct tiles take the spatial kernels on maps too
        // narrow for 24-column panels (ResNet-18's 28-, 14- and 7-wide stages: the network 5-25 % faster, paired in one process,
        // Zen 3), and the RGB stems at stride 2 (3x3, K = 27: since the 4 x 3 passes 1.16x, 1.40x and 1.65x the packed GEMM in
        // MobileNet V2, EfficientNet-B0 and MobileNet V3 Small, one thread, paired in one process, Zen 3; with 2 x 5 passes they
        // were 8-15 % slower). On 1x1 layers the GEMM on packed panels stays first. Measured plans may still choose them. A 1x1
        // stride-1 layer whose filters fill 24-filter panels better than its plane fills 24-position panels takes the pointwise
        // lowering, which with AVX2 is that GEMM transposed (PointwiseGemm256): MobileNet V2's 7x7 layers 1.2-1.9x, DenseNet-121's
        // 7x7 bottlenecks 1.3-1.7x, one thread, Zen 3.
        // On a row narrower than a panel and a kernel (ImplicitGemm.Suits takes such rows with few filters), direct tiles stay
        // first where they suit: the GEMM there was measured only on LeNet-5's 10-wide layer, which the tiles cannot run.
        bool wideImplicit = implicitGemm && paddedW >= ImplicitGemm.PanelWidth(simd) + win.KW;
        if (simd == SimdLevel.Vector256 && (wideImplicit || win.KH * win.KW == 1)) direct = false;
        if (simd == SimdLevel.Vector256) pointwise = pointwiseRuns && stride1 && PointwiseGemm256.Suits(m, win.OH * win.OW);

        // The fixed choice first, then the others that can run the layer.
        ConvLowering first = pointwise && (stride1 || !direct) ? ConvLowering.Pointwise : direct ? ConvLowering.Direct
            : pointwise ? ConvLowering.Pointwise : implicitGemm ? ConvLowering.ImplicitGemm : ConvLowering.Im2Col;
        // Winograd before all of them where it suits: the conv pair (two 3x3 64 -> 64 layers on 56x56) 1.8-2.1x the implicit
        // GEMM at batch 1 and 64 on one and two threads; resnet18 1.31x at batch 1 and 1.37x at batch 8, googlenet 1.22x and
        // 1.60x, squeezenet1_1 1.16x and 1.14x (two threads, alternated in one process, AMD EPYC Zen 3).
        bool winograd = WinogradRuns(simd, win);
        if (winograd && WinogradConv.Suits(m, k / 9, win.OH, win.OW)) first = ConvLowering.Winograd;
        var list = new List<ConvLowering>(5) { first };
        if (directRuns && first != ConvLowering.Direct) list.Add(ConvLowering.Direct);
        if (pointwiseRuns && first != ConvLowering.Pointwise) list.Add(ConvLowering.Pointwise);
        if (implicitGemm && first != ConvLowering.ImplicitGemm) list.Add(ConvLowering.ImplicitGemm);
        if (first != ConvLowering.Im2Col) list.Add(ConvLowering.Im2Col);
        if (winograd && first != ConvLowering.Winograd) list.Add(ConvLowering.Winograd);
        return list.ToArray();
    }

    /// <summary>Whether <see cref="WinogradConv"/> can run the layer: a 3x3 kernel at stride 1, AVX2 transforms.</summary>
    private static bool WinogradRuns(SimdLevel simd, Window2D win) => WinogradConv.Runs(simd) && win is { KH: 3, KW: 3, SH: 1, SW: 1 };

    /// <summary>The lowerings that can run this layer, the plan's fixed choice first; none for the dense product (a 1x1
    /// convolution on a 1x1 map), which is the only way it runs.</summary>
    public IReadOnlyList<ConvLowering> Candidates { get; }

    /// <summary>The lowering its tiles or GEMM run (<see cref="Lowering"/> also names the fused forms); null for the dense product.</summary>
    public ConvLowering? Lowered => _dense is not null ? null : _pointwiseWeights is not null ? ConvLowering.Pointwise
        : _directWeights is not null ? ConvLowering.Direct : _implicitOffsets is not null ? ConvLowering.ImplicitGemm
        : _winogradWeights is not null ? ConvLowering.Winograd : ConvLowering.Im2Col;

    /// <summary>What decides the layer's best lowering on a given CPU: its shapes, window, padding mode and fused ReLU (a measured
    /// plan's cache key, with the CPU, SIMD level and threads).</summary>
    internal string Signature =>
        $"conv2d {InputShape.C}x{InputShape.H}x{InputShape.W} -> {OutputShape.C}, kernel {_win.KH}x{_win.KW}, stride {_win.SH}x{_win.SW}, "
        + $"padding {_win.Top},{_win.Left},{_win.Bottom},{_win.Right}{(_reflect ? " reflect" : "")}{(FusedRelu ? ", relu" : "")}";

    /// <summary>Whether no fusion involves this layer: nothing fused into its store but its ReLU, no gate, no pool, no padded
    /// output or input. Only such a layer may be planned again with another lowering once the model's plan stands.</summary>
    internal bool StandsAlone => FusedOutput.IsNone && !Gated && _pooled is null && _directPool is null && _writesPaddedFor is null && !InputArrivesPadded;

    /// <summary>This layer planned again with <paramref name="lowering"/> (one of <see cref="Candidates"/>): the same weights,
    /// bias and fused ReLU. Called by the plan on a layer that <see cref="StandsAlone"/>.</summary>
    internal Conv2D WithLowering(ConvLowering lowering)
    {
        if (!StandsAlone) throw new InvalidOperationException($"{Name} ({Lowering}) is part of a fusion; its lowering stays.");
        string name = Spec.Name ?? "";
        var tensors = new Dictionary<string, float[]>(StringComparer.Ordinal) { [$"{name}.weight"] = CopyWeights(), [$"{name}.bias"] = CopyBias() };
        return new Conv2D(Spec.WithBias(), _where, InputShape, new TensorWeights(tensors), _simd, FusedRelu, lowering);
    }

    /// <summary>A copy of the bias, one per filter (zeros for a layer without one).</summary>
    internal float[] CopyBias() => _weights.Bias.AsSpan(0, OutputShape.C).ToArray();
}
