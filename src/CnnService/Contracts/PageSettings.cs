namespace CnnService.Contracts;

/// <summary>What the page at <c>/</c> needs from the configuration: the model it opens on.</summary>
public sealed record PageSettings(string DefaultModel);
