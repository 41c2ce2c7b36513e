using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace CnnService.Jobs;

/// <summary>
/// Job records in SQLite, so they outlive the process: one row per job, its state and creation time
/// as columns to query by, the whole <see cref="TrainJob"/> as JSON beside them (one shape to keep in
/// step with the API, not two), and its attempts as a column too (see <see cref="Migrations"/>). The schema is
/// versioned and migrated forward on start. Write-ahead logging, so readers never wait for the trainer's updates, and
/// a process that dies loses no committed update.
/// Not synchronised: <see cref="TrainJobManager"/> serialises the writes to each job.
/// </summary>
public sealed class TrainJobStore
{
    /// <summary>The stored format, fixed here rather than taken from the HTTP settings, so changing those never orphans old rows.</summary>
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>
    /// The schema's history: migration i takes a file at version i to version i + 1 (<c>PRAGMA user_version</c>).
    /// Append only; never edit a shipped one. Version 0 is a new file or one from before versioning, whose
    /// table the first migration's IF NOT EXISTS leaves as it is.
    /// </summary>
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE IF NOT EXISTS train_jobs (
            id TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            created_at TEXT NOT NULL,
            record TEXT NOT NULL
        );
        """,
        // Runs started since the job last stopped cleanly: how the start-up tells a job that keeps killing the process.
        "ALTER TABLE train_jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;",
    ];

    /// <summary>The schema version this code writes.</summary>
    public static int SchemaVersion => Migrations.Length;

    private readonly string _connectionString;

    public TrainJobStore(TrainJobPaths paths)
    {
        Directory.CreateDirectory(paths.Root);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = paths.Database, Mode = SqliteOpenMode.ReadWriteCreate }.ToString();
        using SqliteConnection connection = Open();
        Execute(connection, "PRAGMA journal_mode = WAL");
        Migrate(connection, paths.Database);
    }

    /// <summary>Brings the file up to <see cref="SchemaVersion"/>, one transaction per step; refuses a file from newer code rather than guess at it.</summary>
    private static void Migrate(SqliteConnection connection, string file)
    {
        // IMMEDIATE: a second process opening the same file waits instead of migrating it twice.
        Execute(connection, "BEGIN IMMEDIATE");
        try
        {
            int version = UserVersion(connection);
            if (version > SchemaVersion)
            {
                throw new InvalidOperationException(
                    $"{file} has job-store schema version {version}, newer than this service's {SchemaVersion}: a newer version of the service wrote it. " +
                    "Run that version, or point Jobs:Root at another folder.");
            }

            for (; version < SchemaVersion; version++)
            {
                Execute(connection, Migrations[version]);
                Execute(connection, $"PRAGMA user_version = {version + 1}");
            }

            Execute(connection, "COMMIT");
        }
        catch
        {
            Execute(connection, "ROLLBACK");
            throw;
        }
    }

    private static int UserVersion(SqliteConnection connection)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version";
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Insert(TrainJob job) =>
        Write("INSERT INTO train_jobs (id, state, created_at, attempts, record) VALUES ($id, $state, $created, $attempts, $record)", job);

    public void Update(TrainJob job) => Write("UPDATE train_jobs SET state = $state, attempts = $attempts, record = $record WHERE id = $id", job);

    public TrainJob? Find(string id) => Query("SELECT record, attempts FROM train_jobs WHERE id = $id", ("$id", id)).SingleOrDefault();

    /// <summary>Every job, newest first.</summary>
    public IReadOnlyList<TrainJob> List() => Query("SELECT record, attempts FROM train_jobs ORDER BY created_at DESC, rowid DESC");

    /// <summary>The jobs in <paramref name="state"/>, oldest first (the order they were queued in).</summary>
    public IReadOnlyList<TrainJob> InState(TrainJobState state) =>
        Query("SELECT record, attempts FROM train_jobs WHERE state = $state ORDER BY created_at, rowid", ("$state", state.Name()));

    /// <summary>How many jobs are in each state; every state is present, zero included.</summary>
    public IReadOnlyDictionary<TrainJobState, int> CountByState()
    {
        var counts = Enum.GetValues<TrainJobState>().ToDictionary(s => s, _ => 0);
        using SqliteConnection connection = Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT state, COUNT(*) FROM train_jobs GROUP BY state";
        using SqliteDataReader reader = command.ExecuteReader();
        while (reader.Read())
        {
            if (Enum.TryParse(reader.GetString(0), ignoreCase: true, out TrainJobState state)) counts[state] = reader.GetInt32(1);
        }

        return counts;
    }

    /// <summary>Throws unless a write could commit now: takes the write lock and lets it go, writing nothing (the readiness check).</summary>
    public void CheckWritable()
    {
        using SqliteConnection connection = Open();
        Execute(connection, "BEGIN IMMEDIATE; ROLLBACK;");
    }

    private void Write(string sql, TrainJob job)
    {
        using SqliteConnection connection = Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$id", job.Id);
        command.Parameters.AddWithValue("$state", job.State.Name());
        command.Parameters.AddWithValue("$created", job.CreatedAt.UtcDateTime.ToString("O"));
        command.Parameters.AddWithValue("$attempts", job.Attempts);
        command.Parameters.AddWithValue("$record", JsonSerializer.Serialize(job, Json));
        command.ExecuteNonQuery();
    }

    private List<TrainJob> Query(string sql, params (string Name, string Value)[] parameters)
    {
        using SqliteConnection connection = Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        foreach ((string name, string value) in parameters) command.Parameters.AddWithValue(name, value);
        using SqliteDataReader reader = command.ExecuteReader();
        var jobs = new List<TrainJob>();
        // The column is the truth for attempts: a row from before it has none in its JSON.
        while (reader.Read()) jobs.Add(JsonSerializer.Deserialize<TrainJob>(reader.GetString(0), Json)! with { Attempts = reader.GetInt32(1) });
        return jobs;
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        // With write-ahead logging, NORMAL survives a crash of the process (not of the machine) and spares an fsync per update.
        Execute(connection, "PRAGMA synchronous = NORMAL");
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
