using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace CnnService.Hosting;

/// <summary>
/// The OpenAPI document at <c>/openapi/v1.json</c> (Microsoft.AspNetCore.OpenApi) and Swagger UI over it at
/// <c>/swagger</c> (Swashbuckle's UI only: its generator needs Microsoft.OpenApi 3, which clashes with this one).
/// Predict reads its body itself to accept several forms, so the document is told what those forms are,
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
                document.Info.Description = "Image classification with convolutional networks on a CPU engine: predict, model info, train jobs. Errors are RFC 9457 problem details.";
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                string? name = context.Description.ActionDescriptor.EndpointMetadata.OfType<IEndpointNameMetadata>().FirstOrDefault()?.EndpointName;
                if (name is "Predict" or "PredictVersion") operation.RequestBody = PredictBody();
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
