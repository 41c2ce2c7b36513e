using CnnService.LoadTool;

// cnn-load: `grpc` drives inference.GRPCInferenceService/ModelInfer as ghz does; `bodies` writes the request bodies
// of the REST front doors (and the raw tensor `grpc` sends) from one image. Exit codes: 0 ran, 1 failed, 2 usage.
try
{
    return args.Length > 0 && args[0] is "grpc" ? await GrpcLoadCommand.RunAsync(GrpcLoadOptions.Parse(args[1..]))
        : args.Length > 0 && args[0] is "bodies" ? RequestBodies.Run(RequestBodyOptions.Parse(args[1..]))
        : Usage(args.Length > 0 && args[0] is not ("-h" or "--help") ? $"unknown command \"{args[0]}\"" : null);
}
catch (UsageException e)
{
    return Usage(e.Message);
}

static int Usage(string? error)
{
    if (error is not null) Console.Error.WriteLine($"cnn-load: {error}");
    Console.Error.WriteLine(
        """
        usage:
          cnn-load grpc --target HOST:PORT --raw FILE [--model mnist] [--model-version V] [--datatype UINT8]
                        [--shape 1,1,28,28] [--input input] [--output output] [--connections 32] [--concurrency C]
                        (--duration 15s | --requests N) [--warmup 2s] [--json]
              ModelInfer with FILE as raw_input_contents, from C callers (default: one per connection) over
              a fixed number of HTTP/2 connections; prints req/s, p50/p90/p99/max latency and calls by status code.
          cnn-load bodies --image FILE --out DIR
              Writes DIR/tensor-uint8.raw (the image's 8-bit luminance, 1 x 1 x H x W), DIR/v2-uint8.json,
              DIR/v2-fp32.json (the same pixels / 255), DIR/v2-binary.bin with DIR/v2-binary.header-length
              (the binary tensor extension: JSON header, then the raw tensor; the output asked for as binary).
        """);
    return error is null ? 0 : 2;
}
