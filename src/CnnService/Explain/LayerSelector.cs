using System.Globalization;
using CnnService.Engine.Runtime;

namespace CnnService.Explain;

/// <summary>The <c>{layer}</c> of a route or <c>?layer=</c> query: a layer's name, or its zero-based index (layers such as relu have no name).</summary>
public static class LayerSelector
{
    /// <summary>The names a layer is looked up by, indexed as <see cref="Model.Layers"/> (null for unnamed layers).</summary>
    public static string?[] NamesOf(Model model) => model.Layers.Select(l => l.Name).ToArray();

    public static bool TryResolve(IReadOnlyList<string?> names, string text, out int index, out string error)
    {
        error = "";
        for (index = 0; index < names.Count; index++)
            if (names[index] == text) return true;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out index) && index < names.Count) return true;

        string known = string.Join(", ", names.Select((n, i) => n ?? i.ToString(CultureInfo.InvariantCulture)));
        error = $"There is no layer \"{text}\"; give a layer name or an index 0..{names.Count - 1} ({known}).";
        index = -1;
        return false;
    }
}
