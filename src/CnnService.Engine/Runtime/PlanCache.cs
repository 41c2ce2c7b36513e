using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using CnnService.Engine.Layers;

namespace CnnService.Engine.Runtime;

/// <summary>
/// The choices of measured plans (<see cref="PlanMode.Measure"/>), by CPU, SIMD level, threads and layer shape, kept in
/// memory and, given a <see cref="Path"/>, in a JSON file that later loads and processes read: a model is measured once per
/// machine. A file that cannot be read as one (missing, malformed, written by something else) is ignored, its reason in
/// <see cref="LoadError"/>, and replaced at the next save; an entry naming a lowering the layer cannot take is measured again.
/// Thread-safe: models may load at once.
/// </summary>
public sealed class PlanCache
{
    /// <summary>The file's format; a file of another format is not read.</summary>
    public const int Format = 1;

    /// <summary>A plan cache is a few kilobytes; a file far larger is not one.</summary>
    private const long MaxFileBytes = 16 << 20;

    private readonly Dictionary<string, LoweringChoice> _choices = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private bool _dirty;

    /// <summary>A cache in memory only, or read from and saved to <paramref name="path"/>.</summary>
    public PlanCache(string? path = null)
    {
        Path = path;
        if (path is not null && File.Exists(path)) LoadError = Load(path);
    }

    /// <summary>The JSON file choices are saved to; null keeps them in memory.</summary>
    public string? Path { get; }

    /// <summary>Why the file was not read, or null (it was, or there was none).</summary>
    public string? LoadError { get; }

    /// <summary>Why the last save failed (a read-only folder, say), or null: choices then stay in memory only.</summary>
    public string? SaveError { get; private set; }

    /// <summary>Layer shapes with a choice.</summary>
    public int Count
    {
        get
        {
            lock (_lock) return _choices.Count;
        }
    }

    /// <summary>The choice kept for <paramref name="key"/>, if it names one of <paramref name="candidates"/> (the first its fixed
    /// choice) and times for exactly those.</summary>
    internal bool TryGet(string key, IReadOnlyList<ConvLowering> candidates, out LoweringChoice choice)
    {
        lock (_lock)
        {
            if (_choices.TryGetValue(key, out LoweringChoice? found) && candidates.Contains(found.Lowering) && found.Fixed == candidates[0]
                && found.Milliseconds.Count == candidates.Count && candidates.All(found.Milliseconds.ContainsKey))
            {
                choice = found with { FromCache = true };
                return true;
            }
        }

        choice = null!;
        return false;
    }

    internal void Add(string key, LoweringChoice choice)
    {
        lock (_lock)
        {
            _choices[key] = choice;
            _dirty = true;
        }
    }

    /// <summary>Writes the file if anything was added since it was read (a new file beside it, then moved over it: a reader
    /// never sees half of one).</summary>
    internal void Save()
    {
        if (Path is null) return;
        string json;
        lock (_lock)
        {
            if (!_dirty) return;
            var plans = new JsonObject();
            foreach ((string key, LoweringChoice choice) in _choices.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                var ms = new JsonObject();
                foreach ((ConvLowering lowering, double t) in choice.Milliseconds) ms[lowering.Name()] = Math.Round(t, 4);
                plans[key] = new JsonObject { ["lowering"] = choice.Lowering.Name(), ["fixed"] = choice.Fixed.Name(), ["ms"] = ms };
            }

            json = new JsonObject { ["format"] = Format, ["plans"] = plans }.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            _dirty = false; // set again if the write fails, so a later load tries again
        }

        string temp = $"{Path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            string? folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path));
            if (folder is not null) Directory.CreateDirectory(folder);
            File.WriteAllText(temp, json);
            File.Move(temp, Path, overwrite: true);
            SaveError = null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            SaveError = $"{Path}: {e.Message}";
            lock (_lock) _dirty = true;
            try
            {
                File.Delete(temp);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // Nothing more to do: the temp file was never written, or cannot be removed either.
            }
        }
    }

    /// <summary>Reads the file's entries; returns why it could not, or null.</summary>
    private string? Load(string path)
    {
        try
        {
            if (new FileInfo(path).Length > MaxFileBytes) return $"{path}: larger than {MaxFileBytes >> 20} MB; not a plan cache.";
            if (JsonNode.Parse(File.ReadAllText(path)) is not JsonObject root || root["format"]?.GetValueKind() != JsonValueKind.Number
                || root["format"]!.GetValue<double>() != Format || root["plans"] is not JsonObject plans)
                return $"{path}: not a plan cache of format {Format}.";
            foreach ((string key, JsonNode? node) in plans)
                if (Entry(node) is { } choice) _choices[key] = choice;
            return null;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or InvalidOperationException or FormatException)
        {
            return $"{path}: {e.Message}";
        }
    }

    /// <summary>One entry, or null if any part of it is not what <see cref="Save"/> writes.</summary>
    private static LoweringChoice? Entry(JsonNode? node)
    {
        if (node is not JsonObject entry || entry["ms"] is not JsonObject times) return null;
        if (!ConvLowerings.TryParse(Text(entry["lowering"]), out ConvLowering lowering) || !ConvLowerings.TryParse(Text(entry["fixed"]), out ConvLowering fixedChoice)) return null;
        var ms = new Dictionary<ConvLowering, double>();
        foreach ((string name, JsonNode? t) in times)
        {
            if (!ConvLowerings.TryParse(name, out ConvLowering candidate) || t?.GetValueKind() != JsonValueKind.Number) return null;
            double value = t.GetValue<double>();
            if (!double.IsFinite(value) || value < 0) return null;
            ms[candidate] = value;
        }

        return ms.ContainsKey(lowering) ? new LoweringChoice(lowering, fixedChoice, ms, FromCache: false) : null;
    }

    private static string? Text(JsonNode? node) => node?.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : null;
}
