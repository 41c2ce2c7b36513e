using CnnService.Batching;
using CnnService.Hosting;
using CnnService.Inference;
using CnnService.Metrics;
using CnnService.Models;
using CnnService.Predict;
using CnnService.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CnnService.Tests.Inference;

/// <summary>
/// The core's steps every protocol shares: lease the version and label the request with it, run the inputs and
/// label what served them; or say why not in the one typed error.
/// </summary>
public sealed class InferenceBeginTests(ShippedModelsService service) : IClassFixture<ShippedModelsService>
{
    private InferenceService Inference => service.Factory.Services.GetRequiredService<InferenceService>();

    [Fact]
    public void Before_the_first_scan_has_loaded_the_models_a_request_is_not_ready()
    {
        var metrics = new InferenceMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        using var repository = new ModelRepository(Options.Create(new ModelsOptions { Root = Fixtures.Models }), Options.Create(new BatchingOptions()),
            metrics, new HostingEnvironment { ContentRootPath = Fixtures.Repository }, NullLogger<ModelRepository>.Instance);
        var inference = new InferenceService(repository, Options.Create(new PredictLimits()), Options.Create(new BatchingOptions()),
            new ImageInput(new PredictLimits()), metrics);

        InferenceException e = Assert.Throws<InferenceException>(() => inference.Begin(new DefaultHttpContext(), "mnist", null));

        Assert.Equal(InferenceErrorKind.NotReady, e.Kind);
    }

    [Fact]
    public void Once_ready_an_unknown_model_is_not_found()
    {
        InferenceException e = Assert.Throws<InferenceException>(() => Inference.Begin(new DefaultHttpContext(), "no-such-model", null));

        Assert.Equal(InferenceErrorKind.NotFound, e.Kind);
        Assert.Contains("no-such-model", e.Message);
    }

    [Fact]
    public void An_unknown_version_is_not_found_naming_the_served_ones()
    {
        InferenceException e = Assert.Throws<InferenceException>(() => Inference.Begin(new DefaultHttpContext(), "mnist", 999));

        Assert.Equal(InferenceErrorKind.NotFound, e.Kind);
        Assert.Contains("served: 1, 2", e.Message);
    }

    [Fact]
    public void A_found_model_leases_its_default_version()
    {
        using ModelCall call = Inference.Begin(new DefaultHttpContext(), "mnist", null);

        Assert.Equal(("mnist", 2), (call.Version.Name, call.Version.Version));
    }

    [Fact]
    public async Task A_request_that_ran_is_labelled_with_its_images_batch_and_protocol()
    {
        var context = new DefaultHttpContext();
        using ModelCall call = Inference.BeginInference(context, "mnist", 1, InferenceProtocol.V2);
        var zeros = new InferInput("input", "FP32", [2, 1, 28, 28], new RawTensorContent(new byte[2 * 28 * 28 * sizeof(float)]));

        InferenceResult result = await Inference.InferAsync(call, [zeros]);

        Assert.Equal(2, result.Count);
        Assert.Equal($"mnist v1, 2 image(s), batch of {result.BatchSize} (v2)", context.Items[LoggingSetup.ServedItem]);
    }
}
