// The HTTP host: wiring only. Each resource's endpoints live in Endpoints/, the model
// repository and batching in Models/ and Batching/, train jobs in Jobs/.
using System.Text.Json;
using CnnService.Endpoints;
using CnnService.Jobs;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddProblemDetails();
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
builder.Services.AddTrainJobs(builder.Configuration);

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();

app.MapGet("/health/live", () => TypedResults.Ok(new { status = "live" }));
app.MapTrainJobEndpoints();

app.Run();

/// <summary>Visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
