using System.Diagnostics;
using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

unsafe
{
    foreach (var (m, k, cols) in new[] { (64, 576, 3136), (32, 9, 676 * 64), (100, 5408, 64), (8, 256, 32) })
    {
        var rnd = new Random(1);
        float[] a = new float[m * k]; for (int i = 0; i < a.Length; i++) a[i] = (float)rnd.NextDouble() - 0.5f;
        float[] b = new float[k * cols]; for (int i = 0; i < b.Length; i++) b[i] = (float)rnd.NextDouble() - 0.5f;
        var packed = new PackedMatrix(a, m, k, default);
        float[] c = new float[m * cols];
        foreach (var level in new[] { SimdLevel.Vector512, SimdLevel.Vector256, SimdLevel.Scalar })
        {
            int nr = Gemm.PanelWidth(level);
            float[] panel = new float[k * nr];
            int panels = (cols + nr - 1) / nr;
            fixed (float* pb = b, pc = c, pp = panel)
            {
                var packer = new Im2ColPacker(pb, k, 1, cols, 1, 1, 1, 1, 1, cols);
                double best = 1e9;
                for (int rep = 0; rep < 20; rep++)
                {
                    var sw = Stopwatch.StartNew();
                    Gemm.Run(level, packed, packer, cols, pc, cols, false, 0, panels, pp);
                    best = Math.Min(best, sw.Elapsed.TotalSeconds);
                }
                Console.WriteLine($"{level} M={m} K={k} N={cols}: {2.0 * m * k * cols / best / 1e9:F1} GFLOP/s");
            }
        }
    }
}
