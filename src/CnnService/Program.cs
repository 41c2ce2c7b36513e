// The HTTP host. For now it only answers liveness; the service issue adds the model endpoints,
// train jobs, Swagger UI and the rest. Program.cs stays wiring only.
var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();

app.MapGet("/health/live", () => TypedResults.Ok(new { status = "live" }));

app.Run();
