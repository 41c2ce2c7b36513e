using CnnService.Engine.Format;

namespace CnnService.Engine.Training;

/// <summary>
/// What a layer needs, beyond its own planned settings, to take its training form: where it sits
/// (for messages and dropout's stream), its starting tensors, and the largest batch and thread
/// count it will run, which size the buffers it keeps between forward and backward.
/// </summary>
internal readonly record struct TrainSetup(string Where, int Index, IWeightSource Weights, int MaxBatch, int Threads);
