using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using CnnService.Jobs;
using CnnService.Tests.Imaging.Support;
using CnnService.Tests.Support;

namespace CnnService.Tests.Jobs;

/// <summary>
/// A job's dataset opened as <c>cnn train --data</c> opens it: an image folder is decoded for the architecture's
/// input and its folder names become the model's labels; a named dataset keeps its class names. Every image
/// read stays inside the dataset roots, links followed.
/// </summary>
public sealed class TrainJobImageFolderTests
{
    /// <summary>Names that are not digits, so a model labelled "0".."9" cannot pass for one labelled by its folders.</summary>
    private static readonly string[] Words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

    [Fact]
    public async Task A_job_on_an_image_folder_publishes_a_model_labelled_with_the_folder_names()
    {
        using var folder = new TempFolder();
        string root = PhotoFolder(folder, "datasets/words");
        await using var host = new JobsHost(folder, ("Datasets:Roots:0", folder.Combine("datasets")));

        TrainJob job = await host.StartAsync(Body("words"));
        TrainJob done = await host.WaitForStateAsync(job.Id, TrainJobState.Succeeded);

        Assert.Equal(root, done.Settings.Dataset);
        Assert.Equal(("digits", 1, true), Assert.Single(host.Publisher.Published));
        Assert.Equal(Words.Order(StringComparer.Ordinal), PublishedLabels(host, 1)); // ordinal order, as cnn train
    }

    [Fact]
    public async Task A_job_on_the_split_layout_trains_on_train_scores_on_test_and_is_labelled_with_the_classes_of_both()
    {
        using var folder = new TempFolder();
        PhotoFolder(folder, "datasets/split/train");
        PhotoFolder(folder, "datasets/split/test", photos: 4);
        await using var host = new JobsHost(folder, ("Datasets:Roots:0", folder.Combine("datasets")));

        TrainJob job = await host.StartAsync(Body("split"));
        await host.WaitForStateAsync(job.Id, TrainJobState.Succeeded);

        Assert.Equal(Words.Order(StringComparer.Ordinal), PublishedLabels(host, 1));
        JsonElement metrics = ModelJson(host, 1).GetProperty("metrics");
        Assert.Equal(10, metrics.GetProperty("train_count").GetInt32());
        Assert.Equal(4, metrics.GetProperty("test_count").GetInt32());
    }

    [Fact]
    public async Task A_job_on_a_named_dataset_keeps_its_class_names()
    {
        using var folder = new TempFolder();
        string fashion = Directory.CreateDirectory(folder.Combine("data", "fashion-mnist")).FullName;
        foreach (string file in Directory.GetFiles(JobBodies.FashionMnistSmall)) File.Copy(file, Path.Combine(fashion, Path.GetFileName(file)));
        await using var host = new JobsHost(folder, ("Jobs:DataRoot", folder.Combine("data")));

        TrainJob job = await host.StartAsync(JobBodies.Tiny(("dataset", "fashion-mnist"), ("arch", "lenet5"), ("limit", 64)));
        await host.WaitForStateAsync(job.Id, TrainJobState.Succeeded);

        string[] labels = PublishedLabels(host, 1);
        Assert.Equal("T-shirt/top", labels[0]);
        Assert.Equal("Ankle boot", labels[9]);
    }

    [Fact]
    public async Task A_layer_list_on_an_image_folder_is_refused_for_its_arch_as_it_has_no_input_spec_to_decode_for()
    {
        using var folder = new TempFolder();
        PhotoFolder(folder, "datasets/words");
        await using var host = new JobsHost(folder, ("Datasets:Roots:0", folder.Combine("datasets")));

        using HttpResponseMessage response = await host.CreateAsync(Body("words", JsonNode.Parse(JobBodies.TinyLayers)));

        JsonElement errors = await ErrorsAsync(response);
        Assert.Equal(TrainJobDataset.LayerListOnImageFolder, errors.GetProperty("arch")[0].GetString());
        Assert.False(errors.TryGetProperty("dataset", out _));
    }

    [Fact]
    public async Task A_built_in_architecture_on_an_image_folder_of_another_number_of_classes_is_refused_for_its_arch_before_training()
    {
        using var folder = new TempFolder();
        PhotoFolder(folder, "datasets/three-words", photos: 3);
        await using var host = new JobsHost(folder, ("Datasets:Roots:0", folder.Combine("datasets")));

        using HttpResponseMessage response = await host.CreateAsync(Body("three-words"));

        string message = (await ErrorsAsync(response)).GetProperty("arch")[0].GetString()!;
        Assert.Contains("3 labels, but the network outputs 10 values", message, StringComparison.Ordinal);
    }

    public static TheoryData<string> LinksOut => new()
    {
        "file-to-passwd",      // words/three/3.png is a link to /etc/passwd
        "file-to-image",       // words/three/3.png is a link to a real image outside the root
        "class-folder",        // words/three is a link to a folder of images outside the root
        "split-layout-file",   // split/train/three/3.png is a link to a real image outside the root
    };

    [Theory]
    [MemberData(nameof(LinksOut))]
    public async Task An_image_folder_with_a_link_out_of_the_roots_is_refused_with_the_one_message(string kind)
    {
        using var folder = new TempFolder();
        string outside = PhotoFolder(folder, "outside");
        string dataset = kind.StartsWith("split", StringComparison.Ordinal) ? "split" : "words";
        string three = kind.StartsWith("split", StringComparison.Ordinal)
            ? Path.Combine(PhotoFolder(folder, "datasets/split/train"), "three")
            : Path.Combine(PhotoFolder(folder, "datasets/words"), "three");
        Directory.Delete(three, recursive: true);
        if (kind == "class-folder") Directory.CreateSymbolicLink(three, Path.Combine(outside, "three"));
        else
        {
            Directory.CreateDirectory(three);
            File.CreateSymbolicLink(Path.Combine(three, "3.png"), kind == "file-to-passwd" ? "/etc/passwd" : Directory.GetFiles(Path.Combine(outside, "three"))[0]);
        }

        await using var host = new JobsHost(folder, ("Datasets:Roots:0", folder.Combine("datasets")));
        using HttpResponseMessage response = await host.CreateAsync(Body(dataset));

        Assert.Equal(
            $"No dataset \"{dataset}\": give mnist or fashion-mnist, or a dataset directory inside the service's dataset roots (Datasets:Roots), relative to a root or as an absolute path.",
            (await ErrorsAsync(response)).GetProperty("dataset")[0].GetString());
    }

    [Fact]
    public async Task A_link_out_made_after_the_job_was_accepted_fails_the_job_with_the_one_message_when_it_starts()
    {
        using var folder = new TempFolder();
        string root = PhotoFolder(folder, "datasets/words");
        await using var host = new JobsHost(folder, ("Datasets:Roots:0", folder.Combine("datasets")));
        // Jobs run one at a time: while this one is held publishing, the next waits in the queue.
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Publisher.Hold = hold;
        await host.StartAsync(Body("words"));
        await host.Publisher.PublishStarted.Task.WaitAsync(TimeSpan.FromMinutes(1));
        TrainJob job = await host.StartAsync(Body("words"));

        string three = Path.Combine(root, "three");
        File.Delete(Directory.GetFiles(three)[0]);
        File.CreateSymbolicLink(Path.Combine(three, "3.png"), "/etc/passwd");
        hold.SetResult();
        TrainJob failed = await host.WaitForStateAsync(job.Id, TrainJobState.Failed);

        Assert.Equal(
            $"No dataset \"{root}\": give mnist or fashion-mnist, or a dataset directory inside the service's dataset roots (Datasets:Roots), relative to a root or as an absolute path.",
            failed.Error);
        Assert.Single(host.Publisher.Published); // the first job's model only
    }

    /// <summary>A real photo of each digit (the first <paramref name="photos"/>) in a folder named for it in words: <c>relative/zero/photo-0.png</c>, ...</summary>
    private static string PhotoFolder(TempFolder folder, string relative, int photos = 10)
    {
        foreach (ImageFixtures.Photo photo in ImageFixtures.Photos.Take(photos)) folder.Copy(photo.File, $"{relative}/{Words[photo.Label]}/{photo.File}");
        return folder.Combine(relative.Split('/'));
    }

    /// <summary>One epoch of LeNet-5 (a built-in architecture: its input spec says how to decode the images).</summary>
    private static JsonObject Body(string dataset, JsonNode? arch = null) =>
        JobBodies.Tiny(("dataset", dataset), ("arch", arch ?? "lenet5"), ("limit", null), ("batch_size", 4));

    private static JsonElement ModelJson(JobsHost host, int version) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(ModelVersions.DirectoryOf(host.Publisher.Root, "digits", version), "model.json"))).RootElement;

    private static string[] PublishedLabels(JobsHost host, int version) =>
        ModelJson(host, version).GetProperty("labels").EnumerateArray().Select(l => l.GetString()!).ToArray();

    private static async Task<JsonElement> ErrorsAsync(HttpResponseMessage response)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement.GetProperty("errors").Clone();
    }
}
