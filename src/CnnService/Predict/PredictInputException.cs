namespace CnnService.Predict;

/// <summary>A predict request the service cannot serve, with the status and words of its problem response.</summary>
public sealed class PredictInputException(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;

    public static PredictInputException BadRequest(string detail) => new(StatusCodes.Status400BadRequest, "Invalid input", detail);

    public static PredictInputException TooLarge(string detail) => new(StatusCodes.Status413PayloadTooLarge, "Request too large", detail);

    public static PredictInputException Unsupported(string detail) => new(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", detail);
}
