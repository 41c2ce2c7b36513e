using System.Collections.Concurrent;
using System.Text;
using CnnService.Tests.Support;
using CnnService.Models;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;

namespace CnnService.Tests.Endpoints;

/// <summary>One request log line per request, but probes and scrapes only at Debug: they would drown the rest.</summary>
public sealed class RequestLoggingTests
{
    private sealed class CollectedLines : ILogEventSink
    {
        public ConcurrentQueue<LogEvent> Events { get; } = new();

        public void Emit(LogEvent logEvent) => Events.Enqueue(logEvent);

        /// <summary>The request log line for <paramref name="path"/>, once written (the log middleware writes it after the answer).</summary>
        public async Task<LogEvent> RequestLineAsync(string path)
        {
            using var hang = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            while (true)
            {
                LogEvent? line = Events.FirstOrDefault(e => e.Properties.TryGetValue("RequestPath", out var p) && p is ScalarValue { Value: string s } && s == path);
                if (line is not null) return line;
                await Task.Delay(10, hang.Token);
            }
        }
    }

    /// <summary>The service with <paramref name="lines"/> as one more Serilog sink (Serilog reads sinks from the services).</summary>
    private static async Task<HttpClient> StartAsync(ServiceFactory factory, CollectedLines lines)
    {
        WebApplicationFactory<Program> logged = factory.WithWebHostBuilder(b => b.ConfigureTestServices(services => services.AddSingleton<ILogEventSink>(lines)));
        HttpClient client = logged.CreateClient();
        await logged.Services.GetRequiredService<ModelRepository>().WhenReady.WaitAsync(TimeSpan.FromMinutes(1));
        return client;
    }

    private static ServiceFactory DebugRequestLines() =>
        new(new Dictionary<string, string?> { ["Serilog:MinimumLevel:Override:Serilog.AspNetCore.RequestLoggingMiddleware"] = "Debug" });

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    [InlineData("/metrics")]
    [InlineData("/app.js")]
    public async Task Probes_scrapes_and_static_files_log_at_debug_only(string path)
    {
        await using ServiceFactory factory = DebugRequestLines();
        var lines = new CollectedLines();
        HttpClient client = await StartAsync(factory, lines);

        using HttpResponseMessage response = await client.GetAsync(path);
        response.EnsureSuccessStatusCode();

        Assert.Equal(LogEventLevel.Debug, (await lines.RequestLineAsync(path)).Level);
    }

    [Fact]
    public async Task A_predict_request_still_logs_at_information_with_what_it_served()
    {
        await using ServiceFactory factory = DebugRequestLines();
        var lines = new CollectedLines();
        HttpClient client = await StartAsync(factory, lines);
        using var content = new StringContent(MnistSamples.InstancesBody(0), Encoding.UTF8, "application/json");

        using HttpResponseMessage response = await client.PostAsync("/v1/models/mnist/predict", content);
        response.EnsureSuccessStatusCode();

        LogEvent line = await lines.RequestLineAsync("/v1/models/mnist/predict");
        Assert.Equal(LogEventLevel.Information, line.Level);
        string rendered = line.RenderMessage();
        Assert.True(rendered.Contains("batch of 1"), rendered);
    }
}
