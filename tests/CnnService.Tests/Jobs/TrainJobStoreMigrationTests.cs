using System.Text.Json;
using System.Text.Json.Nodes;
using CnnService.Jobs;
using CnnService.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Options;

namespace CnnService.Tests.Jobs;

/// <summary>The job store's schema: versioned with PRAGMA user_version, migrated forward on open, never opened backwards.</summary>
public sealed class TrainJobStoreMigrationTests
{
    /// <summary>The table exactly as the first released store created it, before schema versions.</summary>
    private const string UnversionedSchema = """
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS train_jobs (
            id TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            created_at TEXT NOT NULL,
            record TEXT NOT NULL
        );
        """;

    [Fact]
    public void A_store_file_from_before_schema_versions_is_migrated_and_its_rows_survive()
    {
        using var folder = new TempFolder();
        TrainJobPaths paths = Paths(folder);
        TrainJob succeeded = Job("old-succeeded", TrainJobState.Succeeded, new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero));
        TrainJob interrupted = Job("old-interrupted", TrainJobState.Interrupted, new DateTimeOffset(2026, 11, 2, 8, 0, 0, TimeSpan.Zero));
        using (SqliteConnection old = OpenRaw(paths.Database))
        {
            Execute(old, UnversionedSchema);
            foreach (TrainJob job in new[] { succeeded, interrupted }) InsertAsOldCodeDid(old, job);
        }

        var store = new TrainJobStore(paths);

        Assert.Equal([interrupted.Id, succeeded.Id], store.List().Select(j => j.Id)); // newest first
        TrainJob read = store.Find(succeeded.Id)!;
        Assert.Equal((TrainJobState.Succeeded, "digits", succeeded.CreatedAt, 0), (read.State, read.Settings.Model, read.CreatedAt, read.Attempts));
        store.Update(read with { Attempts = 2 });
        Assert.Equal(2, store.Find(succeeded.Id)!.Attempts);
        using SqliteConnection check = OpenRaw(paths.Database);
        Assert.Equal(2L, Scalar(check, $"SELECT attempts FROM train_jobs WHERE id = '{succeeded.Id}'"));
        Assert.Equal((long)TrainJobStore.SchemaVersion, Scalar(check, "PRAGMA user_version"));
    }

    [Fact]
    public void Opening_a_migrated_store_again_changes_nothing()
    {
        using var folder = new TempFolder();
        TrainJobPaths paths = Paths(folder);
        new TrainJobStore(paths).Insert(Job("a", TrainJobState.Queued, DateTimeOffset.UnixEpoch) with { Attempts = 1 });

        var again = new TrainJobStore(paths);

        Assert.Equal(1, again.Find("a")!.Attempts);
    }

    [Fact]
    public void A_store_file_written_by_newer_code_is_refused_with_a_clear_message()
    {
        using var folder = new TempFolder();
        TrainJobPaths paths = Paths(folder);
        using (SqliteConnection newer = OpenRaw(paths.Database))
        {
            Execute(newer, UnversionedSchema);
            Execute(newer, $"PRAGMA user_version = {TrainJobStore.SchemaVersion + 1}");
        }

        var e = Assert.Throws<InvalidOperationException>(() => new TrainJobStore(paths));

        Assert.Contains($"schema version {TrainJobStore.SchemaVersion + 1}, newer than this service's {TrainJobStore.SchemaVersion}", e.Message, StringComparison.Ordinal);
        Assert.Contains("Jobs:Root", e.Message, StringComparison.Ordinal);
    }

    private static TrainJobPaths Paths(TempFolder folder)
    {
        var paths = new TrainJobPaths(Options.Create(new TrainJobOptions { Root = folder.Combine("jobs") }), new HostingEnvironment { ContentRootPath = folder.Root });
        Directory.CreateDirectory(paths.Root);
        return paths;
    }

    private static TrainJob Job(string id, TrainJobState state, DateTimeOffset created) => new()
    {
        Id = id, State = state, CreatedAt = created,
        Settings = new TrainJobSettings
        {
            Model = "digits", Arch = JsonDocument.Parse("\"keras-mnist\"").RootElement, Dataset = "mnist", Epochs = 1, BatchSize = 32, Optimizer = "adam",
            LearningRate = 0.001, Seed = 1, Promote = true, ValidationSplit = 0, Threads = 1, Schedule = "constant", AugmentShift = 0,
        },
    };

    /// <summary>The old INSERT, with the record as the old code serialised it: no attempts anywhere.</summary>
    private static void InsertAsOldCodeDid(SqliteConnection connection, TrainJob job)
    {
        JsonObject record = JsonSerializer.SerializeToNode(job, JobsHost.Json)!.AsObject();
        record.Remove("attempts");
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "INSERT INTO train_jobs (id, state, created_at, record) VALUES ($id, $state, $created, $record)";
        command.Parameters.AddWithValue("$id", job.Id);
        command.Parameters.AddWithValue("$state", job.State.Name());
        command.Parameters.AddWithValue("$created", job.CreatedAt.UtcDateTime.ToString("O"));
        command.Parameters.AddWithValue("$record", record.ToJsonString());
        command.ExecuteNonQuery();
    }

    private static SqliteConnection OpenRaw(string file)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
