using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace CnnService.Hosting;

/// <summary>
/// The OpenAPI document at <c>/openapi/v1.json</c> (Microsoft.AspNetCore.OpenApi) and Swagger UI over it at
/// <c>/swagger</c> (Swashbuckle's UI only: its generator needs Microsoft.OpenApi 3, which clashes with this one).
/// Predict and explain read their body themselves to accept several forms, so the document is told what those forms are,
/// which is also what makes the upload usable from Swagger UI.
/// </summary>
public static class OpenApiSetup
{
    public static IServiceCollection AddServiceOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "CnnService";
                document.Info.Description = "Image classification with convolutional networks on a CPU engine: predict, explain (activation maps, filters), model info, train jobs. Errors are RFC 9457 problem details.";
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                string? name = context.Description.ActionDescriptor.EndpointMetadata.OfType<IEndpointNameMetadata>().FirstOrDefault()?.EndpointName;
                if (name is "Predict" or "PredictVersion" or "Explain" or "ExplainVersion" or "Activations" or "ActivationsVersion")
                    operation.RequestBody = PredictBody();
                if (name is "Predict" or "PredictVersion")
                {
                    operation.Parameters ??= [];
                    operation.Parameters.Add(TopK());
                }
                if (name is "Explain" or "ExplainVersion")
                {
                    operation.Parameters ??= [];
                    operation.Parameters.Add(Query("layer", JsonSchemaType.String, "Only this layer: its name or zero-based index."));
                    operation.Parameters.Add(Query("size", JsonSchemaType.Integer, "Pixels a side of each activation map, 8..512 (default Explain:MapSize, 96)."));
                    operation.Parameters.Add(TopK());
                }
                return Task.CompletedTask;
            });
        });

    public static void UseServiceOpenApi(this WebApplication app)
    {
        app.MapOpenApi();
        app.UseSwaggerUI(ui =>
        {
            ui.SwaggerEndpoint("/openapi/v1.json", "CnnService v1");
            ui.RoutePrefix = "swagger";
            ui.DocumentTitle = "CnnService API";
        });
    }

    private static OpenApiParameter TopK() => Query("top_k", JsonSchemaType.Integer, "How many of the most likely classes to list in top, a positive integer (default 5).");

    private static OpenApiParameter Query(string name, JsonSchemaType type, string description) =>
        new() { Name = name, In = ParameterLocation.Query, Description = description, Schema = new OpenApiSchema { Type = type } };

    private static OpenApiRequestBody PredictBody()
    {
        var binary = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" };
        var content = new Dictionary<string, OpenApiMediaType>
        {
            ["multipart/form-data"] = new()
            {
                Schema = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["files"] = new OpenApiSchema { Type = JsonSchemaType.Array, Items = binary, Description = "One or more images; any part name works." },
                    },
                },
            },
            ["application/json"] = new()
            {
                Schema = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Description = "Either instances (already-normalised C x H x W nested arrays, TensorFlow Serving's row format) or images (base64-encoded image files).",
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["instances"] = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.Array } },
                        ["images"] = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String, Format = "byte" } },
                    },
                },
                Example = JsonNode.Parse("""{"images": ["iVBORw0KGgo..."]}"""),
            },
        };
        foreach (string type in Predict.PredictRequestReader.ImageTypes) content[type] = new() { Schema = binary };
        return new OpenApiRequestBody { Required = true, Description = "The images to classify.", Content = content };
    }
}
