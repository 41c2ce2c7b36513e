using CnnService.Tests.Support;
using Microsoft.Playwright;

namespace CnnService.Tests.Browser;

/// <summary>The page at <c>/</c> in headless Chromium against the real service: what a person does with it.</summary>
public sealed class ExplainPageTests(PageSession session) : IClassFixture<PageSession>
{
    private const string AllMapsLoaded =
        "() => { const maps = [...document.querySelectorAll('#layers img.activation-map')]; return maps.length > 0 && maps.every(i => i.complete && i.naturalWidth > 0); }";

    [BrowserFact]
    public async Task Drawing_a_digit_shows_its_label_and_every_layers_activation_maps()
    {
        IPage page = await session.OpenAsync("/?model=mnist");
        await page.ClickAsync("#clear-button");
        Assert.Equal("", await page.TextContentAsync("#top-label"));

        // A 7: a bar along the top, then a stroke down to the bottom left, in canvas coordinates of 0..1.
        await DrawAsync(page, [(0.25, 0.2), (0.75, 0.2), (0.6, 0.45), (0.45, 0.85)]);
        await PageSession.WaitForStateAsync(page, "ready");

        Assert.Equal("7", await page.TextContentAsync("#top-label"));
        await page.WaitForFunctionAsync(AllMapsLoaded);
        Assert.True(await page.Locator("#layers img.activation-map").CountAsync() > 100);
        Assert.True(await page.EvaluateAsync<bool>("() => [...document.querySelectorAll('img.filters')].some(i => i.complete && i.naturalWidth > 0)"));

        Directory.CreateDirectory(PageSession.ArtifactFolder);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(PageSession.ArtifactFolder, "explain-page-drawn-7.png"), FullPage = true });
    }

    [BrowserFact]
    public async Task Picking_a_sample_explains_it()
    {
        IPage page = await session.OpenAsync("/?model=mnist");

        await page.Locator("#samples button").Nth(3).ClickAsync();
        await PageSession.WaitForStateAsync(page, "ready");

        Assert.Equal("3", await page.TextContentAsync("#top-label"));
        Assert.Equal(5, await page.Locator("#prediction li").CountAsync());
    }

    [BrowserFact]
    public async Task Uploading_a_photo_explains_it()
    {
        IPage page = await session.OpenAsync("/?model=mnist");

        await page.SetInputFilesAsync("#file-input", Fixtures.Image("photo-4.png"));
        await PageSession.WaitForStateAsync(page, "ready");

        Assert.Equal("4", await page.TextContentAsync("#top-label"));
    }

    [BrowserFact]
    public async Task Choosing_another_model_explains_its_first_sample_with_its_labels()
    {
        IPage page = await session.OpenAsync("/?model=mnist");

        await page.SelectOptionAsync("#model-select", "fashion-mnist");
        await page.WaitForFunctionAsync("() => document.querySelector('#top-label').textContent === 'T-shirt/top'");

        Assert.Contains("model=fashion-mnist", page.Url);
    }

    [BrowserFact]
    public async Task Selecting_a_map_enlarges_it_and_escape_closes_it()
    {
        IPage page = await session.OpenAsync("/?model=mnist");
        await page.WaitForFunctionAsync(AllMapsLoaded);

        await page.Locator("#layers img.activation-map").First.ClickAsync();
        Assert.True(await page.Locator("#zoom-dialog").IsVisibleAsync());
        await page.Keyboard.PressAsync("Escape");

        Assert.False(await page.Locator("#zoom-dialog").IsVisibleAsync());
    }

    [BrowserFact]
    public async Task Without_a_model_in_the_link_the_page_opens_on_the_configured_default_mnist()
    {
        // fashion-mnist sorts first in the model list; Explain:DefaultModel (mnist) decides.
        IPage page = await session.OpenAsync("/");

        Assert.Equal("mnist", await page.InputValueAsync("#model-select"));
        Assert.Contains("model=mnist", page.Url);
        Assert.Equal("0", await page.TextContentAsync("#top-label"));   // its first sample, digit-0.png
    }

    [BrowserFact]
    public async Task While_an_explanation_is_pending_the_panels_say_they_are_busy_until_it_arrives()
    {
        IPage page = await session.OpenAsync("/?model=mnist");
        Assert.Equal("false", await page.GetAttributeAsync("#layers", "aria-busy"));

        // Hold the next explain answer until the busy state has been seen, so no timing is involved.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await page.RouteAsync(url => url.Contains("/explain?", StringComparison.Ordinal), async route =>
        {
            await release.Task;
            await route.ContinueAsync();
        });
        await page.Locator("#samples button").Nth(5).ClickAsync();

        await page.WaitForSelectorAsync("#layers[aria-busy='true']");
        Assert.Equal("true", await page.GetAttributeAsync("#prediction-area", "aria-busy"));
        Directory.CreateDirectory(PageSession.ArtifactFolder);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(PageSession.ArtifactFolder, "explain-page-busy.png") });
        release.SetResult();

        await PageSession.WaitForStateAsync(page, "ready");
        Assert.Equal("5", await page.TextContentAsync("#top-label"));
        Assert.Equal("false", await page.GetAttributeAsync("#layers", "aria-busy"));
        Assert.Equal("false", await page.GetAttributeAsync("#prediction-area", "aria-busy"));
    }

    [BrowserFact]
    public async Task On_a_phone_screen_drawing_works_and_nothing_scrolls_sideways()
    {
        IPage page = await session.OpenAsync("/?model=mnist", width: 360, height: 740, touch: true);
        await page.ClickAsync("#clear-button");

        await DrawAsync(page, [(0.5, 0.15), (0.5, 0.85)]);   // a 1
        await PageSession.WaitForStateAsync(page, "ready");

        Assert.Equal("1", await page.TextContentAsync("#top-label"));
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"));
        Directory.CreateDirectory(PageSession.ArtifactFolder);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(PageSession.ArtifactFolder, "explain-page-phone.png") });
    }

    /// <summary>One stroke through <paramref name="points"/> (fractions of the canvas), with the mouse, in small steps as a hand would.</summary>
    private static async Task DrawAsync(IPage page, (double X, double Y)[] points)
    {
        ILocator canvas = page.Locator("#draw-canvas");
        await canvas.ScrollIntoViewIfNeededAsync();
        LocatorBoundingBoxResult box = (await canvas.BoundingBoxAsync())!;
        float X(double f) => (float)(box.X + f * box.Width);
        float Y(double f) => (float)(box.Y + f * box.Height);

        await page.Mouse.MoveAsync(X(points[0].X), Y(points[0].Y));
        await page.Mouse.DownAsync();
        foreach ((double x, double y) in points.Skip(1)) await page.Mouse.MoveAsync(X(x), Y(y), new MouseMoveOptions { Steps = 12 });
        await page.Mouse.UpAsync();
    }
}
