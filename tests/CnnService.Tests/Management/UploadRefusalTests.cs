using System.Formats.Tar;
using System.Net;
using System.Net.Http.Headers;

namespace CnnService.Tests.Management;

/// <summary>Hostile or malformed archives are 400s that say why, and leave the model's folder as it was.</summary>
public sealed class UploadRefusalTests
{
    private static readonly byte[] ModelJson = File.ReadAllBytes(ManagedService.Shipped("model.json"));
    private static readonly byte[] Weights = File.ReadAllBytes(ManagedService.Shipped("weights.safetensors"));

    private static async Task AssertRefusedAsync(byte[] archive, string mediaType, string because, Dictionary<string, string?>? settings = null)
    {
        await using ManagedService service = await ManagedService.StartAsync(models => models.Add("digits", 1), settings);
        string[] before = service.Listing("digits");
        using var content = new ByteArrayContent(archive);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);

        using HttpResponseMessage upload = await service.Client.PostAsync("/v1/models/digits/versions", content);

        Assert.Equal(HttpStatusCode.BadRequest, upload.StatusCode);
        Assert.Contains(because, await ManagedService.ErrorAsync(upload));
        Assert.Equal(before, service.Listing("digits"));
        Assert.Equal([1], service.Factory.Repository.Models["digits"].Loaded.Keys);
    }

    [Fact]
    public async Task A_tar_entry_climbing_out_with_dot_dot_is_refused() => await AssertRefusedAsync(
        ManagedService.TarGz(("model.json", TarEntryType.RegularFile, ModelJson, null), ("../x", TarEntryType.RegularFile, "x"u8.ToArray(), null),
            ("weights.safetensors", TarEntryType.RegularFile, Weights, null)),
        "application/gzip", "\"..\"");

    [Fact]
    public async Task A_zip_entry_climbing_out_with_dot_dot_is_refused() => await AssertRefusedAsync(
        ManagedService.Zip(("model.json", ModelJson, 0), ("2/../../x", "x"u8.ToArray(), 0), ("weights.safetensors", Weights, 0)),
        "application/zip", "\"..\"");

    [Fact]
    public async Task A_tar_entry_with_an_absolute_path_is_refused() => await AssertRefusedAsync(
        ManagedService.TarGz(("/tmp/model.json", TarEntryType.RegularFile, ModelJson, null), ("weights.safetensors", TarEntryType.RegularFile, Weights, null)),
        "application/gzip", "absolute path");

    [Fact]
    public async Task A_zip_entry_with_an_absolute_path_is_refused() => await AssertRefusedAsync(
        ManagedService.Zip(("/tmp/model.json", ModelJson, 0), ("weights.safetensors", Weights, 0)),
        "application/zip", "absolute path");

    [Fact]
    public async Task A_tar_symlink_entry_is_refused() => await AssertRefusedAsync(
        ManagedService.TarGz(("model.json", TarEntryType.SymbolicLink, null, "/etc/passwd"), ("weights.safetensors", TarEntryType.RegularFile, Weights, null)),
        "application/gzip", "is a link");

    [Fact]
    public async Task A_tar_hardlink_entry_is_refused() => await AssertRefusedAsync(
        ManagedService.TarGz(("model.json", TarEntryType.RegularFile, ModelJson, null), ("weights.safetensors", TarEntryType.HardLink, null, "model.json")),
        "application/gzip", "is a link");

    [Fact]
    public async Task A_zip_symlink_entry_is_refused() => await AssertRefusedAsync(
        ManagedService.Zip(("model.json", "/etc/passwd"u8.ToArray(), 0xA1FF), ("weights.safetensors", Weights, 0)),
        "application/zip", "symbolic link");

    [Fact]
    public async Task A_tar_device_entry_is_refused() => await AssertRefusedAsync(
        ManagedService.TarGz(("model.json", TarEntryType.CharacterDevice, null, null), ("weights.safetensors", TarEntryType.RegularFile, Weights, null)),
        "application/gzip", "device file");

    [Fact]
    public async Task An_entry_past_the_per_file_limit_is_refused_while_it_unpacks() => await AssertRefusedAsync(
        // 16 MiB of zeros compress to a few KiB: the limit is counted on what comes out, not on the archive's size.
        ManagedService.TarGz(("model.json", TarEntryType.RegularFile, ModelJson, null), ("weights.safetensors", TarEntryType.RegularFile, new byte[16 << 20], null)),
        "application/gzip", "per file", new() { ["Models:MaxUploadEntryBytes"] = (4 << 20).ToString(System.Globalization.CultureInfo.InvariantCulture) });

    [Fact]
    public async Task An_archive_unpacking_past_the_total_limit_is_refused() => await AssertRefusedAsync(
        ManagedService.Zip(("model.json", ModelJson, 0), ("weights.safetensors", new byte[3 << 20], 0), ("model.onnx", new byte[3 << 20], 0)),
        "application/zip", "Models:MaxUploadBytes", new() { ["Models:MaxUploadBytes"] = (5 << 20).ToString(System.Globalization.CultureInfo.InvariantCulture) });

    [Fact]
    public async Task An_archive_with_too_many_entries_is_refused() => await AssertRefusedAsync(
        ManagedService.TarGz([.. Enumerable.Range(0, 40).Select(i => ($"d{i}/", TarEntryType.Directory, (byte[]?)null, (string?)null))]),
        "application/gzip", "Models:MaxUploadEntries");

    [Fact]
    public async Task A_file_that_is_not_part_of_a_version_is_refused() => await AssertRefusedAsync(
        ManagedService.Zip(("model.json", ModelJson, 0), ("weights.safetensors", Weights, 0), ("run.sh", "rm -rf /"u8.ToArray(), 0)),
        "application/zip", "not a file of a model version");

    [Fact]
    public async Task A_truncated_tar_gz_is_refused() => await AssertRefusedAsync(
        ManagedService.ShippedTarGz()[..4000], "application/gzip", "cannot be read");
}
