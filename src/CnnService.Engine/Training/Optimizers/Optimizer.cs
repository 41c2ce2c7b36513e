using CnnService.Engine.Format;

namespace CnnService.Engine.Training.Optimizers;

/// <summary>
/// Updates the trainable parameters from their gradients, one step at a time, keeping whatever
/// per-parameter state the method needs (momentum, moment estimates). The state round-trips
/// through named tensors so a checkpoint resumes exactly where the run stopped.
/// </summary>
public abstract class Optimizer
{
    protected Optimizer(IReadOnlyList<Parameter> parameters)
    {
        Trainable = parameters.Where(p => p.Trainable).ToArray();
    }

    protected Parameter[] Trainable { get; }

    /// <summary>Steps taken so far (Adam's bias correction counts them).</summary>
    public long Steps { get; protected set; }

    /// <summary>Applies one update with learning rate <paramref name="lr"/>.</summary>
    public abstract void Step(float lr);

    /// <summary>The optimizer's state as tensors named "optimizer.*", and the step count.</summary>
    public abstract IEnumerable<NamedTensor> ExportState();

    /// <summary>Restores what <see cref="ExportState"/> wrote; every tensor must be present with the right size.</summary>
    public abstract void ImportState(WeightSet state, long steps);

    public static Optimizer Create(OptimizerOptions options, IReadOnlyList<Parameter> parameters) => options.Name switch
    {
        "adam" => new Adam(parameters, options),
        "sgd" => new Sgd(parameters, options),
        _ => throw new ArgumentException($"Unknown optimizer \"{options.Name}\" (known: adam, sgd)."),
    };

    protected static float[][] Buffers(Parameter[] parameters) => parameters.Select(p => new float[p.Length]).ToArray();

    protected static IEnumerable<NamedTensor> Export(string kind, Parameter[] parameters, float[][] buffers) =>
        parameters.Select((p, i) => new NamedTensor($"optimizer.{kind}.{p.Name}", (int[])p.Shape.Clone(), (float[])buffers[i].Clone()));

    protected static void Import(string kind, Parameter[] parameters, float[][] buffers, WeightSet state)
    {
        for (int i = 0; i < parameters.Length; i++)
            state.Take($"optimizer.{kind}.{parameters[i].Name}", parameters[i].Shape).CopyTo(buffers[i], 0);
    }
}
