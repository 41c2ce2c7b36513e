namespace CnnService.Jobs;

/// <summary>
/// Where a finished train job hands its model: the model repository, which serves the versions under
/// <see cref="Root"/>. The jobs only write a new version folder (atomically) and call <see cref="PublishAsync"/>;
/// loading, warming up and choosing the default version are the repository's business.
/// </summary>
public interface IModelPublisher
{
    /// <summary>The models root directory (absolute).</summary>
    string Root { get; }

    /// <summary>
    /// Loads models/&lt;name&gt;/&lt;version&gt;, warms it up and serves it; when <paramref name="promote"/> is true it
    /// becomes the default version, when false the current default stays default. Throws if the version cannot be loaded.
    /// </summary>
    Task PublishAsync(string name, int version, bool promote, CancellationToken cancellationToken);
}
