using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CnnService.Security;
using CnnService.Tests.Support;

namespace CnnService.Tests.Management;

/// <summary>
/// A service over a private models root with an API key configured, and a client that sends it; plus uploads built
/// from the shipped models' real files.
/// </summary>
internal sealed class ManagedService : IAsyncDisposable
{
    public const string Key = "management-test-key";

    public TempModels Models { get; } = new();

    public ServiceFactory Factory { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public static async Task<ManagedService> StartAsync(Action<TempModels> fill, Dictionary<string, string?>? settings = null)
    {
        var service = new ManagedService();
        fill(service.Models);
        var all = new Dictionary<string, string?>
        {
            ["Models:Root"] = service.Models.Root,
            // Scans run only when the test changes the disk itself; the API's changes are synchronous.
            ["Models:PollSeconds"] = "0.2",
            [ApiKeyFilter.SettingName] = Key,
        };
        foreach ((string k, string? v) in settings ?? []) all[k] = v;
        service.Factory = new ServiceFactory(all);
        service.Client = await service.Factory.ReadyClientAsync();
        service.Client.DefaultRequestHeaders.Add(ApiKeyFilter.HeaderName, Key);
        return service;
    }

    /// <summary>What the model's folder holds, hidden entries included: a refused upload must leave it as it was.</summary>
    public string[] Listing(string name)
    {
        string folder = Path.Combine(Models.Root, name);
        return Directory.Exists(folder) ? Directory.EnumerateFileSystemEntries(folder).Select(e => Path.GetFileName(e)).Order(StringComparer.Ordinal).ToArray() : [];
    }

    public async Task<HttpResponseMessage> PredictAsync(string name, int? version = null)
    {
        string path = version is int v ? $"/v1/models/{name}/versions/{v}/predict" : $"/v1/models/{name}/predict";
        using var content = new StringContent(MnistSamples.InstancesBody(0), Encoding.UTF8, "application/json");
        return await Client.PostAsync(path, content);
    }

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    /// <summary>The error message of a <c>{"error": "..."}</c> answer.</summary>
    public static async Task<string> ErrorAsync(HttpResponseMessage response) => (await JsonAsync(response)).GetProperty("error").GetString()!;

    public static string Shipped(string file, int version = 2) =>
        Path.Combine(Fixtures.Models, "mnist", version.ToString(CultureInfo.InvariantCulture), file);

    /// <summary>A multipart body with one file part per (file name, bytes).</summary>
    public static MultipartFormDataContent Multipart(params (string FileName, byte[] Bytes)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach ((string fileName, byte[] bytes) in files)
        {
            var part = new ByteArrayContent(bytes);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "file", fileName);
        }

        return form;
    }

    public static (string, byte[])[] ShippedVersionFiles(int version = 2) =>
        [("model.json", File.ReadAllBytes(Shipped("model.json", version))), ("weights.safetensors", File.ReadAllBytes(Shipped("weights.safetensors", version)))];

    /// <summary>A .tar.gz of entries written as given: (name, type, data or link target).</summary>
    public static byte[] TarGz(params (string Name, TarEntryType Type, byte[]? Data, string? Link)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach ((string name, TarEntryType type, byte[]? data, string? link) in entries)
            {
                var entry = new PaxTarEntry(type, name);
                if (data is not null) entry.DataStream = new MemoryStream(data);
                if (link is not null) entry.LinkName = link;
                tar.WriteEntry(entry);
            }
        }

        return buffer.ToArray();
    }

    /// <summary>The shipped version's files in a .tar.gz, in folder <paramref name="folder"/> ("" for the top), as tar czf makes it.</summary>
    public static byte[] ShippedTarGz(string folder = "2/") =>
        TarGz([.. (folder.Length > 0 ? [(folder, TarEntryType.Directory, null, null)] : Array.Empty<(string, TarEntryType, byte[]?, string?)>()),
            .. ShippedVersionFiles().Select(f => (folder + f.Item1, TarEntryType.RegularFile, (byte[]?)f.Item2, (string?)null))]);

    /// <summary>A .zip of (name, data, unix mode or 0).</summary>
    public static byte[] Zip(params (string Name, byte[] Data, int UnixMode)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach ((string name, byte[] data, int mode) in entries)
            {
                ZipArchiveEntry entry = zip.CreateEntry(name, CompressionLevel.Fastest);
                if (mode != 0) entry.ExternalAttributes = mode << 16;
                using Stream s = entry.Open();
                s.Write(data);
            }
        }

        return buffer.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Factory.DisposeAsync();
        Models.Dispose();
    }
}
