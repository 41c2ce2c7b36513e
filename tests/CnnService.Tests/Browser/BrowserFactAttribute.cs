namespace CnnService.Tests.Browser;

/// <summary>
/// A test that drives Chromium. Without a Chromium at <see cref="PageSession.ChromiumPath"/> it is
/// skipped, so <c>dotnet test</c> passes on a machine without one, unless <c>CNN_REQUIRE_BROWSER=1</c>
/// (set by <c>.ci/run</c>, which installs Debian's chromium): then a missing browser fails the test.
/// </summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (!File.Exists(PageSession.ChromiumPath) && Environment.GetEnvironmentVariable("CNN_REQUIRE_BROWSER") != "1")
            Skip = $"no Chromium at {PageSession.ChromiumPath} (apt-get install chromium, or set CNN_CHROMIUM); CI sets CNN_REQUIRE_BROWSER=1";
    }
}
