using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Runtime;

namespace FuseChat.Grains.Storage;

/// <summary>
/// Orleans reminders kept in one JSON file, for the embedded silo: a run's reminder then survives a restart of the
/// process, and the run goes on by itself (as it does in a cluster, whose reminders live in Redis) instead of waiting
/// for a client to call it. One process owns the file; every change replaces it atomically (write a temporary file,
/// flush it to disk, rename), so a crash leaves the old table or the new one.
/// </summary>
public sealed class FileReminderTable : IReminderTable
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    private readonly string _path;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<(GrainId Grain, string Name), ReminderEntry> _rows = [];
    private bool _loaded;

    /// <summary>Creates a table over <paramref name="path"/> (created on the first reminder).</summary>
    /// <param name="path">The JSON file.</param>
    /// <param name="logger">Structured logs.</param>
    public FileReminderTable(string path, ILogger<FileReminderTable>? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        _path = Path.GetFullPath(path);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The JSON file.</summary>
    public string FilePath => _path;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken = default) => Locked(() => true, cancellationToken);

    /// <inheritdoc />
    public Task<ReminderTableData> ReadRows(GrainId grainId) => Locked(() => new ReminderTableData(_rows.Values.Where(r => r.GrainId == grainId).Select(Copy).ToList()));

    /// <inheritdoc />
    public Task<ReminderTableData> ReadRows(uint begin, uint end) => Locked(() => new ReminderTableData(_rows.Values.Where(r => InRange(r.GrainId.GetUniformHashCode(), begin, end)).Select(Copy).ToList()));

    /// <inheritdoc />
    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) =>
        Locked(() => _rows.TryGetValue((grainId, reminderName), out var row) ? Copy(row) : null);

    /// <inheritdoc />
    public Task<string?> UpsertRow(ReminderEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return Locked(() =>
        {
            var row = Copy(entry);
            row.ETag = Guid.NewGuid().ToString("N");
            var key = (entry.GrainId, entry.ReminderName);
            _rows.TryGetValue(key, out var previous);
            _rows[key] = row;
            if (!TrySave("upsert", entry))
            {
                if (previous is null) _rows.Remove(key);
                else _rows[key] = previous;
                throw new IOException($"Could not save reminder '{entry.ReminderName}' of {entry.GrainId} to {_path}; see the log for the cause.");
            }

            return (string?)row.ETag;
        });
    }

    /// <inheritdoc />
    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) => Locked(() =>
    {
        var key = (grainId, reminderName);
        if (!_rows.TryGetValue(key, out var row) || row.ETag != eTag) return false;
        _rows.Remove(key);
        if (!TrySave("remove", row))
        {
            _rows[key] = row;
            throw new IOException($"Could not remove reminder '{reminderName}' of {grainId} from {_path}; see the log for the cause.");
        }

        return true;
    });

    /// <inheritdoc />
    public Task TestOnlyClearTable() => Locked(() =>
    {
        _rows.Clear();
        File.Delete(_path);
        return true;
    });

    /// <summary>The ring range (begin, end] of Orleans' reminder partitioning; begin >= end wraps around.</summary>
    private static bool InRange(uint hash, uint begin, uint end) =>
        begin < end ? hash > begin && hash <= end : hash > begin || hash <= end;

    private static ReminderEntry Copy(ReminderEntry r) => new()
    {
        GrainId = r.GrainId,
        ReminderName = r.ReminderName,
        StartAt = r.StartAt,
        Period = r.Period,
        ETag = r.ETag,
    };

    /// <summary>Runs <paramref name="action"/> under the gate, on the table as loaded from the file.</summary>
    private async Task<T> Locked<T>(Func<T> action, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Load();
            return action();
        }
        finally
        {
            _gate.Release();
        }
    }

    private void Load()
    {
        if (_loaded) return;
        if (File.Exists(_path))
        {
            List<StoredReminder>? stored;
            try
            {
                stored = JsonSerializer.Deserialize<List<StoredReminder>>(File.ReadAllBytes(_path), Json);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException(
                    $"The reminder table {_path} is not valid JSON ({e.Message}). Move it aside to start without reminders; "
                    + "runs then continue when a client next asks for their status.", e);
            }

            foreach (var s in stored ?? [])
            {
                var grain = GrainId.Parse(s.Grain);
                _rows[(grain, s.Name)] = new ReminderEntry { GrainId = grain, ReminderName = s.Name, StartAt = s.StartAt, Period = s.Period, ETag = s.ETag };
            }

            _logger.LogInformation("Loaded {Count} reminders from {Path}", _rows.Count, _path);
        }

        _loaded = true;
    }

    private bool TrySave(string operation, ReminderEntry entry)
    {
        var folder = Path.GetDirectoryName(_path)!;
        var temp = Path.Combine(folder, $".{Path.GetFileName(_path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(folder);
            var rows = _rows.Values.OrderBy(r => r.GrainId.ToString(), StringComparer.Ordinal).ThenBy(r => r.ReminderName, StringComparer.Ordinal)
                .Select(r => new StoredReminder(r.GrainId.ToString(), r.ReminderName, r.StartAt, r.Period, r.ETag ?? string.Empty)).ToList();
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                JsonSerializer.Serialize(stream, rows, Json);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, _path, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try
            {
                File.Delete(temp);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // The temporary file is named apart from the table and ignored when it is read.
            }

            _logger.LogError(e, "Could not {Operation} reminder {ReminderName} of {GrainId} in {Path}", operation, entry.ReminderName, entry.GrainId, _path);
            return false;
        }
    }

    /// <summary>One row as stored: the grain id in its string form.</summary>
    private sealed record StoredReminder(
        [property: JsonPropertyName("grain")] string Grain,
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("startAt")] DateTime StartAt,
        [property: JsonPropertyName("period")] TimeSpan Period,
        [property: JsonPropertyName("etag")] string ETag);
}
