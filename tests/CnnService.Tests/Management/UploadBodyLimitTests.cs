using System.Globalization;
using System.Net;

namespace CnnService.Tests.Management;

/// <summary>Uploads have their own body limit (Models:MaxUploadBytes), not predict's (Limits:MaxBodyBytes).</summary>
public sealed class UploadBodyLimitTests
{
    [Fact]
    public async Task An_upload_larger_than_the_predict_body_limit_is_accepted()
    {
        await using ManagedService service = await ManagedService.StartAsync(models => models.Add("digits", 1),
            new() { ["Limits:MaxBodyBytes"] = (1 << 20).ToString(CultureInfo.InvariantCulture) });

        using HttpResponseMessage upload = await service.Client.PostAsync("/v1/models/digits/versions", ManagedService.Multipart(ManagedService.ShippedVersionFiles()));

        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
    }

    [Fact]
    public async Task An_upload_past_the_upload_limit_is_a_413_and_leaves_nothing()
    {
        await using ManagedService service = await ManagedService.StartAsync(models => models.Add("digits", 1),
            new() { ["Models:MaxUploadBytes"] = (1 << 20).ToString(CultureInfo.InvariantCulture) });

        using HttpResponseMessage upload = await service.Client.PostAsync("/v1/models/digits/versions", ManagedService.Multipart(ManagedService.ShippedVersionFiles()));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, upload.StatusCode);
        Assert.Contains("limit", await ManagedService.ErrorAsync(upload));
        Assert.Equal(["1"], service.Listing("digits"));
    }
}
