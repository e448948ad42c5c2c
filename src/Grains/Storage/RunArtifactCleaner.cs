using FuseChat.Grains.Interfaces.Runs;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FuseChat.Grains.Storage;

/// <summary>
/// Deletes the work a <see cref="RunArtifactMirror"/> left in the store under "runs/{run}/" once the run has ended,
/// keeping its outputs. Idempotent: a pass lists what is still there, so a pass cut short by a store failure is simply
/// run again, and a pass over a cleaned run deletes nothing.
/// </summary>
public sealed class RunArtifactCleaner
{
    // Blob deletes are one round trip each: a few at once keep a run with thousands of checkpoint files short.
    private const int ParallelDeletes = 8;

    private readonly IArtifactStore _store;
    private readonly ILogger _logger;

    /// <summary>Creates a cleaner over the store the runs' artifacts are mirrored to.</summary>
    /// <param name="store">The artifact store.</param>
    /// <param name="retention">What to delete once a run has ended.</param>
    /// <param name="stallTimeout">How long one list step or delete may take before the pass fails; null for <see cref="RunArtifactMirror.DefaultStallTimeout"/>.</param>
    /// <param name="logger">Structured logs.</param>
    public RunArtifactCleaner(IArtifactStore store, ArtifactRetention retention, TimeSpan? stallTimeout = null, ILogger<RunArtifactCleaner>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (!Enum.IsDefined(retention)) throw new ArgumentOutOfRangeException(nameof(retention), retention, "Unknown artifact retention.");
        if (stallTimeout is { } t && t <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(stallTimeout), t, "The stall timeout must be positive.");
        _store = store;
        Retention = retention;
        StallTimeout = stallTimeout ?? RunArtifactMirror.DefaultStallTimeout;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>What is deleted once a run has ended.</summary>
    public ArtifactRetention Retention { get; }

    /// <summary>How long one step of a pass may make no progress before the pass fails.</summary>
    public TimeSpan StallTimeout { get; }

    /// <summary>Whether the work of a run that ended in <paramref name="state"/> is to be deleted.</summary>
    /// <param name="state">The run's state.</param>
    /// <returns>True for a completed run unless everything is kept, and for failed or cancelled runs under <see cref="ArtifactRetention.DeleteWorkAlways"/>.</returns>
    public bool DeletesWorkOf(RunState state) => (state, Retention) switch
    {
        (_, ArtifactRetention.KeepAll) => false,
        (RunState.Completed, _) => true,
        (RunState.Failed or RunState.Cancelled, ArtifactRetention.DeleteWorkAlways) => true,
        _ => false,
    };

    /// <summary>
    /// Deletes every artifact under "runs/{<paramref name="runId"/>}/" except those at or below <paramref name="keep"/>.
    /// A store failure ends the pass early and is returned, not thrown: the caller retries later.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="keep">Files or folders to keep, relative to the run's output folder, '/'-separated (as the mirror keys them).</param>
    /// <param name="cancellationToken">Cancels the pass (deactivation); what was deleted stays deleted.</param>
    /// <returns>What was deleted and kept, and the failure that stopped the pass, if any.</returns>
    public async Task<RunArtifactCleanupResult> DeleteWorkAsync(string runId, IReadOnlyCollection<string> keep, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        ArgumentNullException.ThrowIfNull(keep);
        var prefix = ArtifactPaths.Validate($"runs/{runId}") + "/";
        var kept = keep.Select(k => ArtifactPaths.Validate(k)).ToList();
        bool IsKept(string key)
        {
            var relative = key[prefix.Length..];
            return kept.Exists(k => relative == k || relative.StartsWith(k + "/", StringComparison.Ordinal));
        }

        var work = new List<ArtifactInfo>();
        int keptFiles = 0;
        long keptBytes = 0;
        using (var watchdog = StallWatchdog.Start(cancellationToken, StallTimeout))
        {
            try
            {
                await foreach (var item in _store.ListAsync(prefix, watchdog.Token).ConfigureAwait(false))
                {
                    if (IsKept(item.Path))
                    {
                        keptFiles++;
                        keptBytes += item.Length;
                    }
                    else
                    {
                        work.Add(item);
                    }

                    watchdog.CancelAfter(StallTimeout);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return new RunArtifactCleanupResult(0, 0, keptFiles, keptBytes, Failure("list", prefix, prefix, e));
            }
        }

        int deletedFiles = 0;
        long deletedBytes = 0;
        StorageOperationException? failure = null;
        try
        {
            await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = ParallelDeletes, CancellationToken = cancellationToken }, async (item, token) =>
            {
                using var watchdog = StallWatchdog.Start(token, StallTimeout);
                try
                {
                    // False means already gone (an earlier pass, another silo): the goal is reached either way.
                    if (await _store.DeleteAsync(item.Path, watchdog.Token).ConfigureAwait(false))
                    {
                        Interlocked.Increment(ref deletedFiles);
                        Interlocked.Add(ref deletedBytes, item.Length);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
                {
                    throw Failure("delete", prefix, item.Path, e);
                }
            }).ConfigureAwait(false);
        }
        catch (StorageOperationException e)
        {
            failure = e;
        }

        _logger.LogDebug("Run {RunId}: deleted {Files} of {Work} work artifacts ({Bytes} bytes), kept {KeptFiles}", runId, deletedFiles, work.Count, deletedBytes, keptFiles);
        return new RunArtifactCleanupResult(deletedFiles, deletedBytes, keptFiles, keptBytes, failure);
    }

    private StorageOperationException Failure(string operation, string prefix, string key, Exception e)
    {
        var why = e is OperationCanceledException ? $"no progress for {StallTimeout.TotalSeconds:0.#} s" : e.Message;
        return new StorageOperationException($"Could not {operation} artifact '{key}': {why}", operation, prefix, key, (e as StorageOperationException)?.Status ?? 0, e);
    }
}
