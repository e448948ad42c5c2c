using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using FuseChat.Fusion.Training;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FuseChat.Grains.Storage;

/// <summary>
/// Mirrors a run's output folder into an <see cref="IArtifactStore"/> under "runs/{runId}/" (the key of a file is its
/// '/'-joined path relative to the output folder), so that a worker on another silo, or on the same silo after its
/// local disk was lost, gets back what earlier workers wrote. Push and pull compare sizes only: the libraries publish
/// files by writing a temporary and renaming it, so a complete file never changes in place. The mirror never deletes
/// from the store: once the run has ended, <see cref="RunArtifactCleaner"/> removes its work and keeps its outputs.
/// </summary>
public sealed class RunArtifactMirror
{
    /// <summary>The suffix of a training checkpoint folder, of which only the newest checkpoint is pulled.</summary>
    public const string CheckpointsSuffix = ".checkpoints";

    /// <summary>The prefix of one checkpoint inside a <see cref="CheckpointsSuffix"/> folder.</summary>
    public const string CheckpointPrefix = "checkpoint-";

    /// <summary>The file that completes a checkpoint: pushed last, and a stored checkpoint without it is not pulled.</summary>
    public const string CheckpointMarker = FusionTrainer.StateFileName;

    /// <summary>How long a transfer may make no progress before it fails, unless the caller says otherwise.</summary>
    public static readonly TimeSpan DefaultStallTimeout = TimeSpan.FromMinutes(2);

    // Files that readers take as proof that the rest of their folder is there (checkpoint state, model config,
    // shard manifests): moved after everything else, so an interrupted transfer never leaves one without its data.
    private static readonly string[] Metadata = [CheckpointMarker, "config.json", "manifest.json"];

    private const int CopyBufferSize = 1 << 20;

    private readonly IArtifactStore _store;
    private readonly ILogger _logger;

    /// <summary>Creates a mirror of <paramref name="outputFolder"/>.</summary>
    /// <param name="store">The store that outlives silos.</param>
    /// <param name="runId">The run; its artifacts go under "runs/{runId}/".</param>
    /// <param name="outputFolder">The run's local output folder (absolute or relative to the working directory).</param>
    /// <param name="stallTimeout">How long one open, list, read or write may take before the transfer fails; null for <see cref="DefaultStallTimeout"/>.</param>
    /// <param name="logger">Structured logs.</param>
    public RunArtifactMirror(IArtifactStore store, string runId, string outputFolder, TimeSpan? stallTimeout = null, ILogger<RunArtifactMirror>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputFolder);
        if (stallTimeout is { } t && t <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(stallTimeout), t, "The stall timeout must be positive.");
        _store = store;
        RunId = runId;
        OutputFolder = Path.GetFullPath(outputFolder);
        Prefix = ArtifactPaths.Validate($"runs/{runId}") + "/";
        StallTimeout = stallTimeout ?? DefaultStallTimeout;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The run.</summary>
    public string RunId { get; }

    /// <summary>The local output folder, absolute.</summary>
    public string OutputFolder { get; }

    /// <summary>"runs/{runId}/": where the output folder's files live in the store.</summary>
    public string Prefix { get; }

    /// <summary>How long one step of a transfer may make no progress before it fails.</summary>
    public TimeSpan StallTimeout { get; }

    /// <summary>
    /// Where a run keeps local copies of models given as <c>artifact:PREFIX</c> in its spec ("work/artifacts/PREFIX"):
    /// those are pulled from PREFIX itself, never pushed.
    /// </summary>
    public const string InputArtifactsFolder = "work/artifacts";

    /// <summary>The store key of <paramref name="relativePath"/> ('/'-separated, relative to the output folder).</summary>
    /// <param name="relativePath">A file or folder under the output folder.</param>
    /// <returns>"runs/{runId}/{relativePath}", or PREFIX for "work/artifacts/PREFIX".</returns>
    public string KeyOf(string relativePath)
    {
        var path = ArtifactPaths.Validate(relativePath);
        return IsInputArtifact(path) ? ArtifactPaths.Validate(path[(InputArtifactsFolder.Length + 1)..]) : Prefix + path;
    }

    private static bool IsInputArtifact(string relativePath) => relativePath.StartsWith(InputArtifactsFolder + "/", StringComparison.Ordinal);

    /// <summary>The local path of <paramref name="relativePath"/>.</summary>
    /// <param name="relativePath">A file or folder under the output folder, '/'-separated.</param>
    /// <returns>The absolute local path.</returns>
    public string LocalPathOf(string relativePath) =>
        Path.Combine(OutputFolder, ArtifactPaths.Validate(relativePath).Replace('/', Path.DirectorySeparatorChar));

    /// <summary>
    /// Uploads every complete file under <paramref name="relativeFolder"/> (or that one file) that the store lacks or
    /// holds with another size, streaming each and committing it on its own. Temporaries (any name below the folder
    /// that starts with '.', or ends in .tmp, .part or .partial) are skipped; a file that disappears or changes size
    /// while it is read is skipped too and left for the next push. Under a folder ending in <see cref="CheckpointsSuffix"/>
    /// only the newest complete checkpoint is pushed, every file of it opened before the first byte goes, so that the
    /// trainer pruning it meanwhile (it keeps the last two) cannot cut the upload short: each such push leaves a whole
    /// checkpoint in the store however fast training outpaces the uploads.
    /// </summary>
    /// <param name="relativeFolder">A folder or file under the output folder, '/'-separated; missing is fine.</param>
    /// <param name="cancellationToken">Cancels the push; files already committed stay.</param>
    /// <returns>The number of files uploaded.</returns>
    /// <exception cref="StorageOperationException">The store failed or stalled; the message names the artifact.</exception>
    public async Task<int> PushAsync(string relativeFolder, CancellationToken cancellationToken = default)
    {
        // Models the spec named by artifact key are inputs: the run never writes them back.
        if (IsInputArtifact(ArtifactPaths.Validate(relativeFolder))) return 0;
        var key = KeyOf(relativeFolder);
        var local = LocalPathOf(relativeFolder);
        if (relativeFolder.EndsWith(CheckpointsSuffix, StringComparison.Ordinal) && Directory.Exists(local))
        {
            return await PushNewestCheckpointAsync(relativeFolder, key, local, cancellationToken).ConfigureAwait(false);
        }

        List<(string Key, string File)> files;
        if (File.Exists(local))
        {
            files = [(key, local)];
        }
        else if (Directory.Exists(local))
        {
            files = [.. Directory.EnumerateFiles(local, "*", SearchOption.AllDirectories)
                .Select(f => (Relative: Path.GetRelativePath(local, f).Replace(Path.DirectorySeparatorChar, '/'), File: f))
                .Where(f => !IsTemporary(f.Relative))
                .Select(f => (Key: $"{key}/{f.Relative}", f.File))];
        }
        else
        {
            return 0;
        }

        var watch = Stopwatch.StartNew();
        var stored = await ListAsync(key, cancellationToken).ConfigureAwait(false);
        var (pushed, bytes) = (0, 0L);
        foreach (var (fileKey, file) in TransferOrder(files, f => f.Key))
        {
            long length;
            try
            {
                length = new FileInfo(file).Length;
            }
            catch (FileNotFoundException)
            {
                continue;
            }

            if (stored.TryGetValue(fileKey, out var storedLength) && storedLength == length) continue;
            if (!await UploadAsync(fileKey, file, length, cancellationToken).ConfigureAwait(false)) continue;
            pushed++;
            bytes += length;
        }

        if (pushed > 0)
            _logger.LogDebug("Run {RunId}: pushed {Files} files of {Folder} ({Bytes} bytes in {Seconds:F2} s)", RunId, pushed, relativeFolder, bytes, watch.Elapsed.TotalSeconds);
        return pushed;
    }

    /// <summary>
    /// Downloads every stored file under <paramref name="relativeFolder"/> (or that one file) that is missing locally
    /// or has another size, each to a temporary file renamed into place. Under a folder ending in
    /// <see cref="CheckpointsSuffix"/> only the newest complete checkpoint-NNNNNNNN/ is pulled (training resumes from
    /// the newest and prunes older ones locally).
    /// </summary>
    /// <param name="relativeFolder">A folder or file under the output folder, '/'-separated.</param>
    /// <param name="cancellationToken">Cancels the pull; files already in place stay.</param>
    /// <returns>The number of files downloaded.</returns>
    /// <exception cref="StorageOperationException">The store failed or stalled; the message names the artifact.</exception>
    public async Task<int> PullAsync(string relativeFolder, CancellationToken cancellationToken = default)
    {
        var key = KeyOf(relativeFolder);
        var stored = await ListAsync(key, cancellationToken).ConfigureAwait(false);
        IEnumerable<KeyValuePair<string, long>> wanted = stored;
        if (relativeFolder.EndsWith(CheckpointsSuffix, StringComparison.Ordinal)) wanted = NewestCheckpointOnly(key, stored);

        var pulled = 0;
        foreach (var (fileKey, length) in TransferOrder(wanted, f => f.Key))
        {
            var target = LocalPathOf(relativeFolder + fileKey[key.Length..]);
            if (File.Exists(target) && new FileInfo(target).Length == length) continue;
            await DownloadAsync(fileKey, target, cancellationToken).ConfigureAwait(false);
            pulled++;
        }

        if (pulled > 0) _logger.LogInformation("Run {RunId}: pulled {Files} files of {Folder} from the artifact store", RunId, pulled, relativeFolder);
        return pulled;
    }

    /// <summary>Whether a path below a pushed folder is a library's temporary (hidden names, *.tmp, *.part, *.partial).</summary>
    /// <param name="relative">The path below the pushed folder, '/'-separated.</param>
    /// <returns>True when it must not be mirrored.</returns>
    public static bool IsTemporary(string relative)
    {
        ArgumentNullException.ThrowIfNull(relative);
        foreach (var segment in relative.Split('/'))
        {
            if (segment.StartsWith('.')) return true;
        }

        return relative.EndsWith(".tmp", StringComparison.OrdinalIgnoreCase)
            || relative.EndsWith(PartFile.Suffix, StringComparison.OrdinalIgnoreCase)
            || relative.EndsWith(".partial", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// <paramref name="items"/> in the order a transfer moves them: by key, with the files readers take as proof that
    /// the rest of their folder is there (checkpoint marker, config.json, manifest.json) last.
    /// </summary>
    /// <param name="items">The files.</param>
    /// <param name="key">A file's key or path, '/'-separated.</param>
    /// <returns>The files in transfer order.</returns>
    public static IEnumerable<T> TransferOrder<T>(IEnumerable<T> items, Func<T, string> key) =>
        items.OrderBy(i => Array.IndexOf(Metadata, FileName(key(i))) + 1).ThenBy(key, StringComparer.Ordinal);

    private static string FileName(string key) => key[(key.LastIndexOf('/') + 1)..];

    /// <summary>
    /// The step of the newest checkpoint under <paramref name="relativeFolder"/> (a folder ending in
    /// <see cref="CheckpointsSuffix"/>) that the store holds whole, marker included: the one a worker restarted
    /// elsewhere resumes from. Null when there is none.
    /// </summary>
    /// <param name="relativeFolder">The checkpoints folder, '/'-separated, relative to the output folder.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <exception cref="StorageOperationException">The store failed or stalled.</exception>
    public async Task<long?> NewestStoredCheckpointAsync(string relativeFolder, CancellationToken cancellationToken = default)
    {
        var key = KeyOf(relativeFolder);
        return NewestComplete(key, await ListAsync(key, cancellationToken).ConfigureAwait(false)) is { } name ? StepOf(name) : null;
    }

    private static IEnumerable<KeyValuePair<string, long>> NewestCheckpointOnly(string folderKey, IReadOnlyDictionary<string, long> stored)
    {
        var newest = NewestComplete(folderKey, stored);
        return stored.Where(p => CheckpointOf(folderKey, p.Key) is not { } c || c == newest);
    }

    /// <summary>The name of the newest checkpoint-N/ under <paramref name="folderKey"/> whose marker is stored.</summary>
    private static string? NewestComplete(string folderKey, IReadOnlyDictionary<string, long> stored) =>
        // A checkpoint whose marker never reached the store was interrupted mid-push: an older complete one is better.
        stored.Keys
            .Where(k => CheckpointOf(folderKey, k) is { } c && k == $"{folderKey}/{c}/{CheckpointMarker}")
            .Select(k => CheckpointOf(folderKey, k)!)
            .MaxBy(c => StepOf(c));

    /// <summary>The checkpoint-N folder that <paramref name="key"/> lies in directly below <paramref name="folderKey"/>, or null.</summary>
    private static string? CheckpointOf(string folderKey, string key)
    {
        var rest = key[(folderKey.Length + 1)..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        return slash >= 0 && StepOf(rest[..slash]) is not null ? rest[..slash] : null;
    }

    /// <summary>N of a folder named checkpoint-N, or null for any other name.</summary>
    private static long? StepOf(string name) =>
        name.StartsWith(CheckpointPrefix, StringComparison.Ordinal)
        && long.TryParse(name.AsSpan(CheckpointPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var step) ? step : null;

    private async Task<Dictionary<string, long>> ListAsync(string key, CancellationToken cancellationToken)
    {
        using var watchdog = StallWatchdog.Start(cancellationToken, StallTimeout);
        try
        {
            var found = new Dictionary<string, long>(StringComparer.Ordinal);
            await foreach (var item in _store.ListAsync(key, watchdog.Token).ConfigureAwait(false))
            {
                // The prefix "a/b" also matches "a/bc"; only the file itself or what is below the folder belongs.
                if (item.Path == key || item.Path.StartsWith(key + "/", StringComparison.Ordinal)) found[item.Path] = item.Length;
                watchdog.CancelAfter(StallTimeout);
            }

            return found;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw Failure("list", key, null, e);
        }
    }

    /// <summary>
    /// Pushes the newest checkpoint-N/ under <paramref name="local"/> that holds its marker, unless the store has it
    /// whole already. Every file is opened first: a checkpoint the trainer prunes during the upload stays readable
    /// through the open handles. Should it vanish while being opened, the newer one that replaced it is taken.
    /// </summary>
    private async Task<int> PushNewestCheckpointAsync(string relativeFolder, string key, string local, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            // The trainer's own listing of its complete checkpoints (the marker is its state file).
            if (FusionTrainer.FindLatestCheckpoint(local) is not { } newest) return 0;
            var checkpointKey = $"{key}/{Path.GetFileName(newest)}";
            var opened = new List<(string Key, FileStream Source)>();
            try
            {
                try
                {
                    foreach (var file in Directory.EnumerateFiles(newest, "*", SearchOption.AllDirectories))
                    {
                        var relative = Path.GetRelativePath(newest, file).Replace(Path.DirectorySeparatorChar, '/');
                        if (!IsTemporary(relative)) opened.Add(($"{checkpointKey}/{relative}", OpenForPush(file)));
                    }
                }
                catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
                {
                    // Pruned while being opened: a newer checkpoint is complete by now.
                    continue;
                }

                var stored = await ListAsync(checkpointKey, cancellationToken).ConfigureAwait(false);
                var (pushed, bytes) = (0, 0L);
                foreach (var (fileKey, source) in TransferOrder(opened, o => o.Key))
                {
                    var length = source.Length;
                    if (stored.TryGetValue(fileKey, out var storedLength) && storedLength == length) continue;
                    if (!await UploadFromAsync(fileKey, source, source.Name, length, cancellationToken).ConfigureAwait(false)) continue;
                    pushed++;
                    bytes += length;
                }

                if (pushed > 0)
                    _logger.LogDebug("Run {RunId}: pushed {Files} files of {Folder} ({Bytes} bytes in {Seconds:F2} s)", RunId, pushed, $"{relativeFolder}/{Path.GetFileName(newest)}", bytes, watch.Elapsed.TotalSeconds);
                return pushed;
            }
            finally
            {
                foreach (var (_, source) in opened) await source.DisposeAsync().ConfigureAwait(false);
            }
        }

        return 0;
    }

    private static FileStream OpenForPush(string file) =>
        new(file, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);

    private async Task<bool> UploadAsync(string key, string file, long length, CancellationToken cancellationToken)
    {
        FileStream source;
        try
        {
            source = OpenForPush(file);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // Deleted between listing and opening: nothing to keep.
            return false;
        }

        await using (source.ConfigureAwait(false))
        {
            return await UploadFromAsync(key, source, file, length, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Streams <paramref name="source"/> (at its start) to <paramref name="key"/> and commits it; false when it changed size meanwhile.</summary>
    private async Task<bool> UploadFromAsync(string key, FileStream source, string file, long length, CancellationToken cancellationToken)
    {
        using var watchdog = StallWatchdog.Start(cancellationToken, StallTimeout);
        try
        {
            var upload = await _store.OpenWriteAsync(key, watchdog.Token).ConfigureAwait(false);
            await using (upload.ConfigureAwait(false))
            {
                await CopyAsync(source, upload, watchdog).ConfigureAwait(false);
                if (upload.Length != length)
                {
                    // Rewritten in place while read: disposing uncommitted abandons this upload; the next push takes it.
                    _logger.LogDebug("Run {RunId}: {Artifact} changed while uploaded; left for the next push", RunId, key);
                    return false;
                }

                watchdog.CancelAfter(StallTimeout);
                await upload.CommitAsync(watchdog.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Units of one stage may push the same file at once (a shared folder): a blob store then refuses all
            // but one commit. The file is there whole either way; only a store without it is a failure.
            if (await IsStoredAsync(key, length, cancellationToken).ConfigureAwait(false))
            {
                _logger.LogDebug("Run {RunId}: {Artifact} was pushed by another worker at the same time", RunId, key);
                return false;
            }

            throw Failure("push", key, file, e);
        }

        return true;
    }

    private async Task<bool> IsStoredAsync(string key, long length, CancellationToken cancellationToken)
    {
        try
        {
            return (await ListAsync(key, cancellationToken).ConfigureAwait(false)).TryGetValue(key, out var stored) && stored == length;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task DownloadAsync(string key, string target, CancellationToken cancellationToken)
    {
        using var watchdog = StallWatchdog.Start(cancellationToken, StallTimeout);
        try
        {
            await PartFile.WriteAsync(target, async destination =>
            {
                var source = await _store.OpenReadAsync(key, watchdog.Token).ConfigureAwait(false);
                await using (source.ConfigureAwait(false))
                {
                    await CopyAsync(source, destination, watchdog).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            if (e is OperationCanceledException && cancellationToken.IsCancellationRequested) throw;
            throw Failure("pull", key, target, e);
        }
    }

    private async Task CopyAsync(Stream source, Stream destination, CancellationTokenSource watchdog)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            while (true)
            {
                watchdog.CancelAfter(StallTimeout);
                var read = await source.ReadAsync(buffer.AsMemory(0, CopyBufferSize), watchdog.Token).ConfigureAwait(false);
                if (read == 0) return;
                watchdog.CancelAfter(StallTimeout);
                await destination.WriteAsync(buffer.AsMemory(0, read), watchdog.Token).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private StorageOperationException Failure(string operation, string key, string? local, Exception e)
    {
        var why = e is OperationCanceledException ? $"no progress for {StallTimeout.TotalSeconds:0.#} s" : e.Message;
        var where = local is null ? "" : operation == "push" ? $" from {local}" : $" to {local}";
        return new StorageOperationException($"Could not {operation} artifact '{key}'{where}: {why}", operation, Prefix, key, (e as StorageOperationException)?.Status ?? 0, e);
    }

}
