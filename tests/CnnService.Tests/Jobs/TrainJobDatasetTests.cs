using System.Net;
using System.Text.Json;
using CnnService.Jobs;
using CnnService.Tests.Support;

namespace CnnService.Tests.Jobs;

/// <summary>
/// A job's <c>dataset</c>: the named datasets, or a directory inside <c>Datasets:Roots</c>; nothing else on the
/// server, and one answer for whatever is refused or missing, so the answers map nothing of the file system.
/// </summary>
public sealed class TrainJobDatasetTests
{
    [Theory]
    [InlineData("/etc")]
    [InlineData("/root")]
    [InlineData("/")]
    [InlineData("../../..")]
    [InlineData("digits/../../..")]
    [InlineData("/no/such/dir")]
    [InlineData("no-such-dataset")]
    [InlineData("escape")]          // a link inside the root to a dataset outside it
    [InlineData("linked-files")]    // a real folder inside the root whose IDX files are links to files outside it
    [InlineData("loop")]            // two links naming each other
    public async Task A_dataset_outside_the_roots_or_missing_is_refused_with_one_message_that_tells_nothing(string dataset)
    {
        using var folder = new TempFolder();
        await using var host = DatasetsHost(folder);

        using HttpResponseMessage response = await host.CreateAsync(JobBodies.Tiny(("dataset", dataset)));

        Assert.Equal(
            $"No dataset \"{dataset}\": give mnist or fashion-mnist, or a dataset directory inside the service's dataset roots (Datasets:Roots), relative to a root or as an absolute path.",
            await DatasetErrorAsync(response));
    }

    [Fact]
    public async Task A_dataset_directory_inside_a_root_is_accepted_relative_to_the_root_or_absolute_as_its_real_path()
    {
        using var folder = new TempFolder();
        await using var host = DatasetsHost(folder);

        TrainJob relative = await host.StartAsync(JobBodies.Tiny(("dataset", "digits")));
        TrainJob absolute = await host.StartAsync(JobBodies.Tiny(("dataset", folder.Combine("datasets", "digits"))));
        TrainJob linkedInside = await host.StartAsync(JobBodies.Tiny(("dataset", "alias")));

        Assert.Equal(folder.Combine("datasets", "digits"), relative.Settings.Dataset);
        Assert.Equal(folder.Combine("datasets", "digits"), absolute.Settings.Dataset);
        Assert.Equal(folder.Combine("datasets", "digits"), linkedInside.Settings.Dataset); // a link that stays inside is fine
        await host.WaitForStateAsync(relative.Id, TrainJobState.Succeeded);
    }

    [Fact]
    public async Task A_named_dataset_not_fetched_yet_is_refused_naming_the_fetch_script_and_the_service_setting_not_the_cli_flags()
    {
        using var folder = new TempFolder();
        await using var host = new JobsHost(folder, ("Jobs:DataRoot", Directory.CreateDirectory(folder.Combine("empty-data")).FullName));

        using HttpResponseMessage response = await host.CreateAsync(JobBodies.Tiny(("dataset", "mnist")));
        string message = await DatasetErrorAsync(response);

        Assert.Contains("scripts/fetch-data.sh mnist", message, StringComparison.Ordinal);
        Assert.Contains("Jobs:DataRoot", message, StringComparison.Ordinal);
        Assert.DoesNotContain("--data-root", message, StringComparison.Ordinal);
        Assert.DoesNotContain("CNN_DATA_ROOT", message, StringComparison.Ordinal);
        Assert.DoesNotContain(folder.Root, message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A service whose one dataset root is <c>datasets/</c> under the test's folder, holding a copy of the
    /// fixture digits (<c>digits/</c>), a link to it (<c>alias</c>), a link to the fixture outside the root
    /// (<c>escape</c>), a folder of links to the fixture's files (<c>linked-files/</c>), and two links naming each other (<c>loop</c>).
    /// </summary>
    private static JobsHost DatasetsHost(TempFolder folder)
    {
        string root = Directory.CreateDirectory(folder.Combine("datasets")).FullName;
        string digits = Directory.CreateDirectory(Path.Combine(root, "digits")).FullName;
        string linkedFiles = Directory.CreateDirectory(Path.Combine(root, "linked-files")).FullName;
        foreach (string file in Directory.GetFiles(JobBodies.MnistSmall))
        {
            File.Copy(file, Path.Combine(digits, Path.GetFileName(file)));
            File.CreateSymbolicLink(Path.Combine(linkedFiles, Path.GetFileName(file)), file);
        }

        Directory.CreateSymbolicLink(Path.Combine(root, "alias"), digits);
        Directory.CreateSymbolicLink(Path.Combine(root, "escape"), JobBodies.MnistSmall);
        Directory.CreateSymbolicLink(Path.Combine(root, "loop"), Path.Combine(root, "loop-back"));
        Directory.CreateSymbolicLink(Path.Combine(root, "loop-back"), Path.Combine(root, "loop"));
        return new JobsHost(folder, ("Datasets:Roots:0", root));
    }

    private static async Task<string> DatasetErrorAsync(HttpResponseMessage response)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement.GetProperty("errors").GetProperty("dataset")[0].GetString()!;
    }
}
