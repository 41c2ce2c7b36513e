namespace CnnService.Engine.Kernels;

/// <summary>
/// Supplies the B operand of the GEMM one column panel and depth block at a time: rows
/// [k0, k0 + depth) of columns [j0, j0 + count), packed [depth][NR] for the micro-kernel. The packer decides what a column is: an output position of a convolution
/// (im2col), or one image's feature vector (dense). Columns past <c>count</c> are zero.
/// </summary>
internal unsafe interface IPanelPacker
{
    void Pack(int j0, int count, int k0, int depth, float* panel, int nr);
}
