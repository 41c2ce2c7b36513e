using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// y = W x + b for each image's flat input: a dense layer, and a 1x1 convolution on a 1x1 map (the squeeze-and-excitation
/// layers of EfficientNet and MobileNet V3), which is the same product. Below <see cref="GemvMaxBatch"/> images the
/// matrix-vector kernel streams W once per two images; from there the GEMM takes one column per image. Since the kernel
/// depends on the batch, so does the rounding: a layer using this must see whole batches (<see cref="Layer.WholeBatchOnly"/>).
/// </summary>
internal sealed unsafe class DenseProduct(PackedMatrix weights, SimdLevel simd)
{
    /// <summary>Below this many images the GEMM's 32-column panels are mostly padding.</summary>
    public const int GemvMaxBatch = 4;

    private bool UseGemv(int batch) => batch < GemvMaxBatch && Gemv.Supports(simd);

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

        Gemm.Run(simd, weights, new RowPacker(job.Input, weights.K, vector: simd == SimdLevel.Vector512), job.Batch, job.Output, 1, relu, start, end,
            ThreadScratch.Get(Gemm.ScratchFloats(weights, simd)));
    }
}
