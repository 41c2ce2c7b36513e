using Serilog;
using Serilog.Formatting.Compact;

namespace CnnService.Hosting;

/// <summary>
/// Serilog for every log line: levels from the <c>Serilog</c> configuration section, console output as
/// text or, with <c>Logs:Json=true</c>, one compact JSON object per line for a log collector. Request
/// logging adds the model, version, image count and batch size that predict records.
/// </summary>
public static class LoggingSetup
{
    public const string ServedItem = "cnn.served";

    public static void AddServiceLogging(this WebApplicationBuilder builder)
    {
        bool json = builder.Configuration.GetValue<bool>("Logs:Json");
        builder.Services.AddSerilog((services, logger) =>
        {
            logger.ReadFrom.Configuration(builder.Configuration).ReadFrom.Services(services).Enrich.FromLogContext();
            if (json) logger.WriteTo.Console(new RenderedCompactJsonFormatter());
            else logger.WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}{NewLine}{Exception}", formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        });
    }

    public static void UseServiceRequestLogging(this WebApplication app) =>
        app.UseSerilogRequestLogging(options =>
        {
            options.MessageTemplate = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms{Served}";
            options.EnrichDiagnosticContext = (diagnostics, context) =>
                diagnostics.Set("Served", context.Items.TryGetValue(ServedItem, out object? served) ? $" ({served})" : "");
        });
}
