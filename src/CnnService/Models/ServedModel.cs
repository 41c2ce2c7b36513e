using System.Collections.Immutable;

namespace CnnService.Models;

/// <summary>
/// A snapshot of one model name: the versions loaded now, the ones that failed to load, and which is
/// the default. Immutable; the repository swaps in a new snapshot when anything changes.
/// </summary>
public sealed record ServedModel(
    string Name,
    ImmutableSortedDictionary<int, ModelVersion> Loaded,
    ImmutableSortedDictionary<int, VersionFailure> Failed,
    int? PinnedDefault)
{
    /// <summary>The pinned version when it is loaded, otherwise the highest loaded version.</summary>
    public ModelVersion? Default =>
        PinnedDefault is int pinned && Loaded.TryGetValue(pinned, out ModelVersion? version) ? version
        : Loaded.IsEmpty ? null : Loaded[Loaded.Keys.Last()];

    public static ServedModel Empty(string name) =>
        new(name, ImmutableSortedDictionary<int, ModelVersion>.Empty, ImmutableSortedDictionary<int, VersionFailure>.Empty, null);
}

/// <summary>Why a version on disk is not served; <paramref name="Stamp"/> lets a rescan retry only once its files change.</summary>
public sealed record VersionFailure(string Error, string Stamp, DateTimeOffset At);
