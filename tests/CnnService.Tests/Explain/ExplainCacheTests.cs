using CnnService.Engine.Runtime;
using CnnService.Explain;
using Microsoft.Extensions.Options;

namespace CnnService.Tests.Explain;

public class ExplainCacheTests
{
    private sealed class ShiftedClock(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + shift;
    }

    private static Explanation Entry(ExplainCache cache, int floats)
    {
        (string id, DateTimeOffset expiresAt) = cache.NewEntry();
        return new Explanation(id, "m", 1, expiresAt, new TensorShape(1, 1, 1), [0f], [null], [new TensorShape(floats, 1, 1)], [new float[floats]]);
    }

    [Fact]
    public void An_explanation_is_found_by_its_id_until_it_expires()
    {
        using var cache = new ExplainCache(Options.Create(new ExplainOptions { CacheSeconds = 300 }), TimeProvider.System);
        Explanation e = Entry(cache, 10);

        cache.Add(e);

        Assert.True(cache.TryGet(e.Id, out Explanation found));
        Assert.Same(e, found);
        Assert.False(cache.TryGet("not-an-id", out _));
    }

    [Fact]
    public void An_expired_explanation_is_gone()
    {
        // Entries made by a clock ten minutes behind expire five minutes before "now".
        using var cache = new ExplainCache(Options.Create(new ExplainOptions { CacheSeconds = 300 }), new ShiftedClock(TimeSpan.FromMinutes(-10)));
        Explanation e = Entry(cache, 10);

        cache.Add(e);

        Assert.False(cache.TryGet(e.Id, out _));
    }

    [Fact]
    public void An_explanation_larger_than_the_whole_cache_is_not_kept()
    {
        using var cache = new ExplainCache(Options.Create(new ExplainOptions { CacheMegabytes = 1 }), TimeProvider.System);
        Explanation small = Entry(cache, 1000), huge = Entry(cache, 300_000);   // 1.2 MB of floats

        cache.Add(small);
        cache.Add(huge);

        Assert.True(cache.TryGet(small.Id, out _));
        Assert.False(cache.TryGet(huge.Id, out _));
    }
}
