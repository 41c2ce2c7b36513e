using System.Globalization;
using System.Text;
using Serilog;
using Serilog.Formatting;
using Serilog.Formatting.Display;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace CnnService.Hosting;

/// <summary>
/// Serilog for every log line: levels from the <c>Serilog</c> configuration section, console output as
/// text or, with <c>Logs:Json=true</c>, one compact JSON object per line for a log collector. A request never
/// writes to the console itself: past <see cref="LogBufferEvents"/> waiting lines new ones are dropped rather
/// than block. Redirected output (a container, a service, a benchmark) is written in batches by
/// <see cref="BatchedTextSink"/> every <see cref="FlushInterval"/>; a terminal, line by line in colour by a
/// background thread (Serilog.Sinks.Async), for whoever is watching it.
/// Request logging adds the model, version, image count and batch size that predict records, and logs
/// probes and scrapes (health, metrics) and static files at Debug only: they are most of the traffic and none of the news.
/// </summary>
public static class LoggingSetup
{
    public const string ServedItem = "cnn.served";
    public const int LogBufferEvents = 10_000;
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(50);
    private const string TextTemplate = "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}{NewLine}{Exception}";

    public static void AddServiceLogging(this WebApplicationBuilder builder)
    {
        bool json = builder.Configuration.GetValue<bool>("Logs:Json");
        builder.Services.AddSerilog((services, logger) =>
        {
            logger.ReadFrom.Configuration(builder.Configuration).ReadFrom.Services(services).Enrich.FromLogContext();
            if (Console.IsOutputRedirected)
            {
                ITextFormatter formatter = json ? new RenderedCompactJsonFormatter() : new MessageTemplateTextFormatter(TextTemplate, CultureInfo.InvariantCulture);
                var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16) { AutoFlush = false };
                logger.WriteTo.Sink(new BatchedTextSink(formatter, stdout, LogBufferEvents, FlushInterval));
                return;
            }

            logger.WriteTo.Async(
                console =>
                {
                    if (json) console.Console(new RenderedCompactJsonFormatter());
                    else console.Console(outputTemplate: TextTemplate, formatProvider: CultureInfo.InvariantCulture);
                },
                bufferSize: LogBufferEvents,
                blockWhenFull: false);
        }, preserveStaticLogger: true);  // each host its own logger: Serilog's static one is shared by every host in the process, and closed by the first to stop
    }

    public static void UseServiceRequestLogging(this WebApplication app) =>
        app.UseSerilogRequestLogging(options =>
        {
            // This host's logger: the middleware would otherwise write to the static Log.Logger, which this host leaves alone.
            options.Logger = app.Services.GetRequiredService<Serilog.ILogger>();
            options.MessageTemplate = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms{Served}";
            options.GetLevel = RequestLevel;
            options.EnrichDiagnosticContext = (diagnostics, context) =>
                diagnostics.Set("Served", context.Items.TryGetValue(ServedItem, out object? served) ? $" ({served})" : "");
        });

    /// <summary>Errors at Error; health probes, metrics scrapes and static files (no endpoint) that went well at Debug; the rest at Information.</summary>
    internal static LogEventLevel RequestLevel(HttpContext context, double elapsedMilliseconds, Exception? exception)
    {
        int status = context.Response.StatusCode;
        if (exception is not null || status >= 500) return LogEventLevel.Error;
        if (status >= 400) return LogEventLevel.Information;
        PathString path = context.Request.Path;
        bool routine = path.StartsWithSegments("/health") || path.StartsWithSegments("/metrics") || context.GetEndpoint() is null;
        return routine ? LogEventLevel.Debug : LogEventLevel.Information;
    }
}
