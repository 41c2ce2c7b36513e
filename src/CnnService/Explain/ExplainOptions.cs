namespace CnnService.Explain;

/// <summary>Settings of the explain endpoints (section <c>Explain</c>).</summary>
public sealed class ExplainOptions
{
    public const string Section = "Explain";

    /// <summary>How long an explanation's activations stay cached for <c>activations/{layer}.png?id=</c>.</summary>
    public int CacheSeconds { get; set; } = 300;

    /// <summary>Memory the cached activations may take, in MiB; the oldest are evicted beyond it.</summary>
    public int CacheMegabytes { get; set; } = 64;

    /// <summary>Default pixels a side of one rendered activation map (the <c>size</c> query overrides it).</summary>
    public int MapSize { get; set; } = 96;

    /// <summary>The model the page at <c>/</c> opens on when the link names none (and it is served).</summary>
    public string DefaultModel { get; set; } = "mnist";
}
