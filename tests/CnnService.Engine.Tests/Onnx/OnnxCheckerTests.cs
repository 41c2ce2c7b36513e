using System.Diagnostics;
using CnnService.Engine.Format;
using CnnService.Engine.Onnx;
using CnnService.Engine.Onnx.Export;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Onnx;

/// <summary>
/// The reference implementation's own validator, onnx.checker.check_model (full_check: with shape inference), accepts
/// what the exporter writes. Needs Debian's /usr/bin/python3 with the onnx package; skipped without it unless
/// CNN_REQUIRE_ONNX_MODELS=1, which makes its absence a failure.
/// </summary>
public class OnnxCheckerTests
{
    private const string Python = "/usr/bin/python3";

    private const string Script = """
        import sys, onnx
        for path in sys.argv[1:]:
            onnx.checker.check_model(onnx.load(path), full_check=True)
        print("ok", len(sys.argv) - 1)
        """;

    [OnnxCheckerFact]
    public void The_onnx_checker_accepts_every_seed_architecture_and_shipped_model_at_opset_13_and_17()
    {
        using var temp = new TempDir();
        var files = new List<string>();
        foreach (int opset in new[] { 13, 17 })
        {
            foreach (string arch in CnnService.Engine.Runtime.Architectures.Names)
            {
                ModelSpec spec = CnnService.Engine.Runtime.Architectures.Get(arch);
                files.Add(Write(temp, $"{arch}-{opset}.onnx", OnnxExporter.Export(spec, WeightInitializer.Initialize(spec, 1), opset)));
            }

            foreach (object[] version in OnnxExportRoundTripTests.ShippedModels())
            {
                string name = ((string)version[0]).Replace('/', '-');
                files.Add(Write(temp, $"{name}-{opset}.onnx", OnnxExporter.Export(Path.Combine(Fixtures.Models, (string)version[0]), opset)));
            }
        }

        Assert.Equal($"ok {files.Count}", RunChecker(files));
    }

    [OnnxCheckerFact]
    public void The_onnx_checker_accepts_reflect_padding_pooling_with_padding_lrn_and_an_identity_output()
    {
        using var temp = new TempDir();
        ModelSpec spec = TestModels.Spec(new TensorShape(2, 8, 8),
            new LayerSpec { Type = "conv2d", Name = "c", Filters = 3, Kernel = Pair.Square(3), Padding = Padding.Sides(1, 2, 2, 1), PaddingMode = "reflect" },
            new LayerSpec { Type = "lrn", Size = 3 },
            new LayerSpec { Type = "avgpool2d", Kernel = Pair.Square(2), Padding = Padding.Of(1, 1) },
            new LayerSpec { Type = "maxpool2d", Kernel = Pair.Square(2), Stride = Pair.Square(1) },
            new LayerSpec { Type = "softmax" },
            new LayerSpec { Type = "dropout" });
        var files = new[] { 13, 17 }.Select(opset => Write(temp, $"layers-{opset}.onnx", OnnxExporter.Export(spec, OnnxExportLayerTests.Weights(spec), opset))).ToList();
        Assert.Equal($"ok {files.Count}", RunChecker(files));
    }

    private static string Write(TempDir temp, string name, OnnxModel model)
    {
        string path = temp.File(name);
        File.WriteAllBytes(path, OnnxWriter.Write(model));
        return path;
    }

    private static string RunChecker(IEnumerable<string> files)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Script);
        foreach (string f in files) start.ArgumentList.Add(f);
        using Process process = Process.Start(start)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"onnx.checker refused a file: {stderr.Result}");
        return stdout.Trim();
    }

    /// <summary>Whether Debian's python with onnx is there, asked once per test run.</summary>
    internal static readonly Lazy<bool> Available = new(() =>
    {
        if (!File.Exists(Python)) return false;
        try
        {
            var start = new ProcessStartInfo(Python, ["-c", "import onnx"]) { RedirectStandardError = true, RedirectStandardOutput = true };
            using Process process = Process.Start(start)!;
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    });
}

/// <summary>A fact skipped, saying why, when python's onnx package is absent, unless CNN_REQUIRE_ONNX_MODELS=1 demands it.</summary>
public sealed class OnnxCheckerFactAttribute : FactAttribute
{
    public OnnxCheckerFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("CNN_REQUIRE_ONNX_MODELS") != "1" && !OnnxCheckerTests.Available.Value)
            Skip = "Debian's /usr/bin/python3 with the onnx package is not installed (set CNN_REQUIRE_ONNX_MODELS=1 to fail instead).";
    }
}
