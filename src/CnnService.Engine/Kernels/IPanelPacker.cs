namespace CnnService.Engine.Kernels;

/// <summary>
/// Supplies the B operand of the GEMM one column panel at a time, packed [K][NR] for the
/// micro-kernel. The packer decides what a column is: an output position of a convolution
/// (im2col), or one image's feature vector (dense). Columns past <c>count</c> are zero.
/// </summary>
internal unsafe interface IPanelPacker
{
    void Pack(int j0, int count, float* panel, int nr);
}
