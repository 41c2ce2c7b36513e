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
    /// <summary>Below this many images the matrix-vector kernel, streaming the weights once per two images, beats the GEMM, whose
    /// 32-column panel is then half padding or more: MobileNet V3's classifier (576 -> 1024 -> 1000) at batch 8 0.36 against
    /// 0.85 ms on one thread, at 16 0.65 against 0.87, at 32 even (AMD EPYC Zen 4). Kept at 16 for CPUs
    /// whose full-width FMAs favour the GEMM.</summary>
    public const int GemvMaxBatch = 16;

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

    /// <summary>Work items <paramref name="job"/>'s call splits into: weight panels for the GEMV; for the GEMM, each column
    /// panel's weight panels, so that threads share a batch of one column panel (a classifier of 1000 at batch 8 ran on one
    /// core: by columns there was one item) and take whole column panels where there are more. The kernel is the one the
    /// job's <see cref="ParallelJob.KernelBatch"/> takes: a share of a split batch computes the whole batch's bits.</summary>
    public int Items(ParallelJob job) => UseGemv(job.KernelBatch) ? weights.Panels : ColumnPanels(job.Batch) * weights.Panels;

    private int ColumnPanels(int batch) => (batch + Gemm.PanelWidth(simd) - 1) / Gemm.PanelWidth(simd);

    /// <summary>Chunk <paramref name="chunk"/> of <paramref name="job"/>'s call: job.Input is [batch][K], job.Output [batch][M].</summary>
    public void Run(ParallelJob job, int chunk, bool relu)
    {
        (int start, int end) = Parallelism.Range(Items(job), job.Chunks, chunk);
        if (UseGemv(job.KernelBatch))
        {
            Gemv.Run(simd, weights, job.Input, job.Batch, job.Output, relu, start, end);
            return;
        }

        // Item i is column panel i / Panels, weight panel i % Panels: the chunk's run of rows in each column panel it meets.
        var packer = new RowPacker(job.Input, weights.K, simd);
        float* scratch = ThreadScratch.Get(Gemm.ScratchFloats(weights, simd));
        int rowPanels = weights.Panels;
        for (int item = start; item < end;)
        {
            int column = item / rowPanels, r0 = item - column * rowPanels, r1 = Math.Min(rowPanels, r0 + end - item);
            Gemm.Run(simd, weights, packer, job.Batch, job.Output, 1, relu, column, column + 1, scratch, r0, r1);
            item += r1 - r0;
        }
    }
}
