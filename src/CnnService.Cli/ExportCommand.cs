using CnnService.Engine.Format;
using CnnService.Engine.Onnx;
using CnnService.Engine.Onnx.Export;
using CnnService.Engine.Onnx.Import;
using CnnService.Engine.Runtime;

namespace CnnService.Cli;

/// <summary>
/// <c>cnn export</c>: writes a model as an ONNX file plus the <c>config.json</c> beside it that keeps what ONNX
/// does not (name, description, labels, input preprocessing), so the pair serves and imports as the same model.
/// </summary>
internal static class ExportCommand
{
    private static readonly OptionSpec Onnx = new("--onnx", TakesValue: true);
    private static readonly OptionSpec Opset = new("--opset", TakesValue: true);

    public static Command Definition { get; } = new(
        "export",
        "write a model as an ONNX file (with a config.json beside it)",
        $"""
        usage: cnn export --onnx FILE --model DIR [--opset N]
               cnn export --onnx FILE --arch NAME [--opset N]

        Writes the model as an ONNX file that ONNX Runtime runs to the same outputs: one input
        [batch, C, H, W] (batch symbolic) and one output, named as the model names them ("input"
        and "output" for a model.json model; an ONNX model's own names), the weights as stored. What
        ONNX does not carry (name, description, labels, and the input's color, scale, mean and
        std) goes to {OnnxConfig.ConfigFile} beside FILE; a folder holding the two as {ModelLoader.OnnxFile} and
        {OnnxConfig.ConfigFile} is a model version, and 'cnn import' reads the pair back. Neither file
        may exist already.

          --onnx FILE   the ONNX file to write, e.g. export/mnist/model.onnx
          --model DIR   a model directory ({ModelLoader.SpecFile} + {ModelLoader.WeightsFile}, or {ModelLoader.OnnxFile})
          --arch NAME   a built-in architecture with random weights (seed {ModelSource.ArchSeed}): {ModelSource.ArchNames}
          --opset N     the ONNX opset, {OnnxExporter.MinOpset} to {OnnxExporter.MaxOpset} (default: {OnnxExporter.DefaultOpset})
          -h, --help    show this help
        """,
        [Onnx, ModelSource.ModelOption, ModelSource.ArchOption, Opset],
        Run);

    private static int Run(ParsedArgs args, TextWriter stdout)
    {
        if (args.Positionals.Count > 0) throw new UsageException($"'cnn export' takes no file arguments (got '{args.Positionals[0]}'); name the output with --onnx");
        string file = args.Require(Onnx.Name);
        int opset = args.GetInt(Opset.Name, OnnxExporter.DefaultOpset, OnnxExporter.MinOpset, OnnxExporter.MaxOpset);
        args.RequireExactlyOne(ModelSource.ModelOption.Name, ModelSource.ArchOption.Name);
        (ModelSpec spec, IWeightSource weights) = Read(args);

        string folder = Path.GetDirectoryName(Path.GetFullPath(file))!;
        string config = Path.Combine(folder, OnnxConfig.ConfigFile);
        if (Path.GetFileName(file) == OnnxConfig.ConfigFile) throw new UsageException($"--onnx {file}: that name is kept for the {OnnxConfig.ConfigFile} written beside it");
        foreach (string path in new[] { file, config })
        {
            if (File.Exists(path) || Directory.Exists(path)) throw new CliException($"{path} already exists; an export never overwrites (choose another --onnx path).");
        }

        OnnxModel model = OnnxExporter.Export(spec, weights, opset);
        Directory.CreateDirectory(folder);
        // config.json first: a watcher that sees the .onnx file must find its config already complete.
        WriteAtomically(config, stream => { using var w = new StreamWriter(stream); w.Write(OnnxExportConfig.ToJson(spec)); });
        try
        {
            WriteAtomically(file, stream => { using var buffered = new BufferedStream(stream, 1 << 16); OnnxWriter.Write(model, buffered); });
        }
        catch
        {
            File.Delete(config); // ours, written a moment ago: leave nothing half done
            throw;
        }

        stdout.WriteLine($"wrote {file} ({model.Graph.Nodes.Count} nodes, {model.Graph.Initializers.Count} initializers, opset {opset}, {new FileInfo(file).Length:N0} bytes)");
        stdout.WriteLine($"wrote {config} (name, labels and input preprocessing)");
        return ExitCodes.Ok;
    }

    private static (ModelSpec, IWeightSource) Read(ParsedArgs args)
    {
        if (args.GetString(ModelSource.ArchOption.Name) is string arch)
        {
            if (!Architectures.Names.Contains(arch, StringComparer.Ordinal))
                throw new UsageException($"unknown architecture '{arch}' (known: {ModelSource.ArchNames})");
            ModelSpec spec = Architectures.Get(arch);
            return (spec, WeightInitializer.Initialize(spec, ModelSource.ArchSeed));
        }

        return ModelLoader.Read(args.GetString(ModelSource.ModelOption.Name)!);
    }

    /// <summary>Writes a temporary sibling, then renames it into place: no half-written file ever has the final name.</summary>
    private static void WriteAtomically(string path, Action<Stream> write)
    {
        string temp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.partial-{Guid.NewGuid():N}");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write)) write(stream);
            File.Move(temp, path, overwrite: false);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
