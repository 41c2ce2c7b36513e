using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// y = W x + b for each image's flat input: a dense layer, and a 1x1 convolution on a 1x1 map (the squeeze-and-excitation
/// layers of EfficientNet and MobileNet V3), which is the same product. Below <see cref="GemvMaxBatch"/> images the
/// matrix-vector kernel streams W once per two images; from there the GEMM takes one column per image. Where the kernel
/// depends on the batch, so does the rounding: such a layer must see whole batches (<see cref="Layer.WholeBatchOnly"/>).
/// Small weights (<see cref="SmallWeights"/>) take the matrix-vector kernel at any batch, so their sums do not depend on it
/// and the layer may run on a chunk of the batch with the layers around it.
/// </summary>
internal sealed unsafe class DenseProduct(PackedMatrix weights, SimdLevel simd)
{
    /// <summary>Below this many images the GEMM's 32-column panels are mostly padding.</summary>
    public const int GemvMaxBatch = 4;

    /// <summary>
    /// Weights of at most this many floats (256 KB) stay in L2 while the matrix-vector kernel passes over them once per two
    /// images, so it serves them at any batch: EfficientNet-B0's squeeze-and-excitation layers (up to 1152 x 48) then compute
    /// the same for a chunk of one image as for the batch, and the blocks around them can run image by image (at batch 8 on
    /// one thread each image of the whole-batch plan cost 12.8 ms against 11.5 at batch 1: every block's maps went through L3).
    /// </summary>
    public const long SmallWeights = 1 << 16;

    /// <summary>Whether an image's result is the same whatever batch it is computed in: one kernel at every batch.</summary>
    public bool SameAtAnyBatch => !Gemv.Supports(simd) || (long)weights.M * weights.K <= SmallWeights;

    private bool UseGemv(int batch) => Gemv.Supports(simd) && (batch < GemvMaxBatch || (long)weights.M * weights.K <= SmallWeights);

    /// <summary>Work items a call on <paramref name="batch"/> images splits into: weight panels for the GEMV, column panels for the GEMM.</summary>
    public int Items(int batch) => UseGemv(batch) ? weights.Panels : (batch + Gemm.PanelWidth(simd) - 1) / Gemm.PanelWidth(simd);

    /// <summary>Chunk <paramref name="chunk"/> of <paramref name="job"/>'s call: job.Input is [batch][K], job.Output [batch][M].</summary>
    public void Run(ParallelJob job, int chunk, bool relu)
    {
        (int start, int end) = Parallelism.Range(Items(job.Batch), job.Chunks, chunk);
        if (UseGemv(job.Batch))
        {
            Gemv.Run(simd, weights, job.Input, job.Batch, job.Output, relu, start, end);
            return;
        }

        Gemm.Run(simd, weights, new RowPacker(job.Input, weights.K, simd), job.Batch, job.Output, 1, relu, start, end,
            ThreadScratch.Get(Gemm.ScratchFloats(weights, simd)));
    }
}
