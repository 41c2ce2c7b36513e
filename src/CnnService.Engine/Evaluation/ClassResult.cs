namespace CnnService.Engine.Evaluation;

/// <summary>How one class fared: how many items truly belong to it and how many of those the model got right.</summary>
public sealed record ClassResult(string Name, int Count, int Correct)
{
    /// <summary>Correct / Count; NaN for a class with no items.</summary>
    public double Accuracy => Count == 0 ? double.NaN : (double)Correct / Count;
}
