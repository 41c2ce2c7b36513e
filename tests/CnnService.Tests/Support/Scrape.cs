using System.Globalization;

namespace CnnService.Tests.Support;

/// <summary>
/// One read of <c>/metrics</c> (Prometheus text format), queried as Prometheus would: the sum of a metric's samples
/// over every series whose labels include the ones given, whatever other labels they carry.
/// </summary>
public sealed class Scrape(string text)
{
    public string Text { get; } = text;

    public static async Task<Scrape> ReadAsync(HttpClient client) => new(await client.GetStringAsync("/metrics"));

    /// <summary>
    /// Scrapes until <paramref name="metric"/>'s sum over <paramref name="labels"/> is <paramref name="expected"/>, or for at most
    /// 30 s, and returns the last scrape. For ASP.NET Core's own <c>http.server.*</c> meters: a request is recorded when its
    /// context is disposed, which may come just after the client has its answer.
    /// </summary>
    public static async Task<Scrape> UntilAsync(HttpClient client, double expected, string metric, params (string Name, string Value)[] labels)
    {
        long deadline = Environment.TickCount64 + 30_000;
        while (true)
        {
            Scrape scrape = await ReadAsync(client);
            if (scrape.Sum(metric, labels) == expected || Environment.TickCount64 > deadline) return scrape;
            await Task.Delay(20);
        }
    }

    /// <summary>The sum over the matching series; 0 when none matches (a counter never incremented is not exported).</summary>
    public double Sum(string metric, params (string Name, string Value)[] labels)
    {
        double sum = 0;
        foreach ((string name, Dictionary<string, string> series, double value) in Samples())
        {
            if (name == metric && labels.All(l => series.TryGetValue(l.Name, out string? v) && v == l.Value)) sum += value;
        }

        return sum;
    }

    /// <summary>Whether any series of <paramref name="metric"/> has a label with <paramref name="value"/>.</summary>
    public bool AnyLabelValue(string metric, string value) =>
        Samples().Any(s => s.Name == metric && s.Labels.ContainsValue(value));

    private IEnumerable<(string Name, Dictionary<string, string> Labels, double Value)> Samples()
    {
        foreach (string line in Text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            int brace = line.IndexOf('{'), space = line.LastIndexOf(' ');
            string name = brace >= 0 ? line[..brace] : line[..space];
            var labels = new Dictionary<string, string>();
            if (brace >= 0)
            {
                string body = line[(brace + 1)..line.LastIndexOf('}')];
                // Label values here never hold '",' (model names and routes): split on it.
                foreach (string pair in body.Split("\",", StringSplitOptions.RemoveEmptyEntries))
                {
                    int eq = pair.IndexOf('=');
                    labels[pair[..eq]] = pair[(eq + 2)..].TrimEnd('"');
                }
            }

            yield return (name, labels, double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture));
        }
    }
}
