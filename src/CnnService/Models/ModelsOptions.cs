namespace CnnService.Models;

/// <summary>Where the served models live and how versions are kept (configuration section <c>Models</c>).</summary>
public sealed class ModelsOptions
{
    public const string Section = "Models";

    /// <summary>TensorFlow Serving's layout: <c>Root/&lt;name&gt;/&lt;version&gt;/</c>. Relative paths are resolved against the content root.</summary>
    public string Root { get; set; } = "../../models";

    /// <summary>
    /// How many of a model's newest versions stay loaded (TF Serving's <c>latest</c> policy). The default
    /// version is kept loaded besides them; older versions are released once their last request finishes.
    /// </summary>
    public int MaxVersions { get; set; } = 2;

    /// <summary>How often the root is rescanned, besides file-system notifications (which network volumes may not deliver).</summary>
    public double PollSeconds { get; set; } = 2;

    /// <summary>Threads one forward pass may use; 0 means every CPU this process may use (a container's limit included).</summary>
    public int Threads { get; set; }

    /// <summary>How each convolution's lowering is chosen: <c>Fixed</c> (by its shape) or <c>Measure</c> (by timing the
    /// candidates at load, on this machine; see <see cref="Engine.Runtime.PlanMode"/>).</summary>
    public Engine.Runtime.PlanMode Plan { get; set; } = Engine.Runtime.PlanMode.Fixed;

    /// <summary>With <see cref="Plan"/> <c>Measure</c>: a JSON file keeping the measured choices across restarts (relative to
    /// the content root). Empty keeps them in memory, for the process's later loads and hot swaps.</summary>
    public string PlanCache { get; set; } = "";
}
