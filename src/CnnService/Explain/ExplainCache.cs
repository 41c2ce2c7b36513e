using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace CnnService.Explain;

/// <summary>
/// Recent explanations by id, so a page can fetch one layer's mosaic after the explain call without
/// posting the image again. Bounded by memory (values held) and by age; an id that has gone is a 404.
/// </summary>
public sealed class ExplainCache(IOptions<ExplainOptions> options, TimeProvider time) : IDisposable
{
    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = options.Value.CacheMegabytes * (1L << 20) / sizeof(float) });

    public TimeSpan Lifetime { get; } = TimeSpan.FromSeconds(options.Value.CacheSeconds);

    /// <summary>A fresh id and expiry time for a new explanation.</summary>
    public (string Id, DateTimeOffset ExpiresAt) NewEntry() => (Guid.NewGuid().ToString("N"), time.GetUtcNow() + Lifetime);

    public void Add(Explanation explanation) =>
        _cache.Set(explanation.Id, explanation, new MemoryCacheEntryOptions { Size = explanation.Floats, AbsoluteExpiration = explanation.ExpiresAt });

    public bool TryGet(string id, out Explanation explanation) => _cache.TryGetValue(id, out explanation!);

    public void Dispose() => _cache.Dispose();
}
