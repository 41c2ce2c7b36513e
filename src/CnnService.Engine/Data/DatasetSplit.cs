namespace CnnService.Engine.Data;

/// <summary>Which half of a dataset: the training images or the held-out test images (<c>t10k</c> in MNIST's file names).</summary>
public enum DatasetSplit { Train, Test }
