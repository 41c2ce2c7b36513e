using CnnService.Tests.Support;
using Microsoft.Playwright;

namespace CnnService.Tests.Browser;

/// <summary>
/// The service on a real Kestrel (loopback, a free port) and one headless Chromium, Debian's, driven
/// by Playwright, shared by a test class; each test opens its own page. Playwright's own browser
/// download cannot work here, so it launches <see cref="ChromiumPath"/> with the flags this machine
/// needs: no sandbox (root), and no background networking (the network is closed).
/// </summary>
public sealed class PageSession : IAsyncLifetime
{
    public static string ChromiumPath => Environment.GetEnvironmentVariable("CNN_CHROMIUM") ?? "/usr/bin/chromium";

    /// <summary>Screenshots land here (git-ignored), for a person to look at after the run.</summary>
    public static string ArtifactFolder => Path.Combine(Fixtures.Repository, "TestResults", "browser");

    private readonly ServiceFactory _factory = new();
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public Uri BaseAddress { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _factory.UseKestrel(0);
        _factory.StartServer();
        BaseAddress = (await _factory.ReadyClientAsync()).BaseAddress!;
        if (!File.Exists(ChromiumPath)) return;   // the tests fail (CI) or are skipped, with the reason

        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            ChromiumSandbox = false,
            Args = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    /// <summary>A fresh page (own context) at <paramref name="path"/>, waiting until the page has explained its first input.</summary>
    public async Task<IPage> OpenAsync(string path, int width = 1280, int height = 900, bool touch = false)
    {
        IPage page = await LoadAsync(path, width, height, touch);
        await WaitForStateAsync(page, "ready");
        return page;
    }

    /// <summary>A fresh page (own context) at <paramref name="path"/>, once loaded.</summary>
    public async Task<IPage> LoadAsync(string path, int width = 1280, int height = 900, bool touch = false)
    {
        if (_browser is null) throw new FileNotFoundException($"No Chromium at {ChromiumPath}: apt-get install chromium (.ci/run does), or set CNN_CHROMIUM.");
        IBrowserContext context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            HasTouch = touch,
        });
        IPage page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(BaseAddress, path).ToString());
        return page;
    }

    /// <summary>Waits for <c>body[data-state]</c>, the page's own account of where it is.</summary>
    public static Task WaitForStateAsync(IPage page, string state) =>
        page.WaitForSelectorAsync($"body[data-state='{state}']", new PageWaitForSelectorOptions { Timeout = 30_000 });

    public async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.DisposeAsync();
        _playwright?.Dispose();
        await _factory.DisposeAsync();
    }
}
