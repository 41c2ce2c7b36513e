using Microsoft.Playwright;

namespace CnnService.Tests.Browser;

/// <summary>Swagger UI at <c>/swagger</c> in headless Chromium: what a person trying predict sees there.</summary>
public sealed class SwaggerPageTests(PageSession session) : IClassFixture<PageSession>
{
    private const string Predict = "#operations-Predict-Predict";

    private async Task<IPage> OpenPredictAsync()
    {
        IPage page = await session.LoadAsync("/swagger/index.html");
        await page.ClickAsync($"{Predict} .opblock-summary", new PageClickOptions { Timeout = 30_000 });
        await page.WaitForSelectorAsync($"{Predict} .parameters-container");
        return page;
    }

    [BrowserFact]
    public async Task Predict_shows_its_top_k_parameter_and_its_413_response()
    {
        IPage page = await OpenPredictAsync();

        await page.WaitForSelectorAsync($"{Predict} tr[data-param-name='top_k']");
        Assert.Contains("integer", await page.TextContentAsync($"{Predict} tr[data-param-name='top_k']"));
        Assert.Contains("problem+json", await page.TextContentAsync($"{Predict} tr.response[data-code='413']") ?? "");
        await page.WaitForSelectorAsync($"{Predict} tr.response[data-code='429']");
    }

    [BrowserFact]
    public async Task Trying_predict_with_a_multipart_body_offers_a_file_input()
    {
        IPage page = await OpenPredictAsync();
        await page.ClickAsync($"{Predict} button.try-out__btn");
        await page.SelectOptionAsync($"{Predict} .opblock-section-request-body select", "multipart/form-data");

        Directory.CreateDirectory(PageSession.ArtifactFolder);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(PageSession.ArtifactFolder, "swagger-predict-multipart.png"), FullPage = true });
        File.WriteAllText(Path.Combine(PageSession.ArtifactFolder, "swagger-predict.html"), await page.InnerHTMLAsync(Predict));
        await page.WaitForSelectorAsync($"{Predict} .opblock-section-request-body input[type=file]", new PageWaitForSelectorOptions { Timeout = 30_000 });
    }
}
