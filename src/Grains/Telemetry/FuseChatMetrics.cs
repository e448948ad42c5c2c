using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using FuseChat.Grains.Storage;

namespace FuseChat.Grains.Telemetry;

/// <summary>
/// The instruments of the meter <see cref="MeterName"/> that grains record: runs by state, stage progress, tokens,
/// training loss, checkpoints and artifact transfers. One instance per silo (a DI singleton); thread-safe.
/// </summary>
/// <remarks>
/// Per-run values (state, progress, tokens per second, loss) are kept in registries read by observable gauges rather
/// than recorded on synchronous gauges, so that a finished run's series go away instead of being exported forever:
/// <see cref="ForgetRun"/> removes them at once, and every collection drops those of runs that are not running on this
/// silo and were not updated for <see cref="SeriesRetention"/>. The expiry matters because the silo that hosts a run's
/// grain is often not the one whose workers recorded its loss and throughput, and no end-of-run event reaches those.
/// docs/metrics.md lists the names Prometheus sees.
/// </remarks>
public sealed class FuseChatMetrics : IDisposable
{
    /// <summary>The meter name, to be enabled in OpenTelemetry (AddMeter).</summary>
    public const string MeterName = "FuseChat";

    /// <summary>Direction tag value of <see cref="RecordArtifactBytes"/> for uploads.</summary>
    public const string Upload = "upload";

    /// <summary>Direction tag value of <see cref="RecordArtifactBytes"/> for downloads.</summary>
    public const string Download = "download";

    /// <summary>How long the series of a run that is not running here stay after their last update, by default.</summary>
    public static readonly TimeSpan DefaultSeriesRetention = TimeSpan.FromMinutes(30);

    /// <summary>Outcome tag value of <see cref="RecordArtifactCleanupPass"/> for a pass that deleted all the work.</summary>
    public const string CleanupCompleted = "completed";

    /// <summary>Outcome tag value of <see cref="RecordArtifactCleanupPass"/> for a pass the store cut short.</summary>
    public const string CleanupFailed = "failed";

    // States after which a run records nothing more; their series expire (see SeriesRetention).
    private static readonly HashSet<string> EndedStates = new(StringComparer.Ordinal) { "completed", "failed", "cancelled" };

    // Seconds: checkpoints of small models take well under a second, large ones minutes.
    private static readonly double[] CheckpointBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _tokens;
    private readonly Counter<long> _checkpointBytes;
    private readonly Histogram<double> _checkpointDuration;
    private readonly Counter<long> _runsEnded;
    private readonly Counter<long> _cleanupPasses;
    private readonly Counter<long> _deletedBytes;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Stamped<string>> _runStates = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Run, string Stage), Stamped<double>> _progress = new();
    private readonly ConcurrentDictionary<(string Run, string Stage), Stamped<double>> _tokensPerSecond = new();
    private readonly ConcurrentDictionary<(string Run, string Source), Stamped<double>> _loss = new();
    private readonly ConcurrentDictionary<string, byte> _pendingCleanups = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _artifactBytes = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<ArtifactTransferCounters> _artifactCounters = [];

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>, or on a meter of its own when null.</summary>
    /// <param name="meterFactory">The host's meter factory (the meter then lives as long as the host's services).</param>
    /// <param name="seriesRetention">How long the series of a run that is not running on this silo stay after their last update; null for <see cref="DefaultSeriesRetention"/>.</param>
    /// <param name="time">The clock of that expiry; null for the system clock.</param>
    public FuseChatMetrics(IMeterFactory? meterFactory = null, TimeSpan? seriesRetention = null, TimeProvider? time = null)
    {
        if (seriesRetention is { } r && r <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(seriesRetention), r, "The series retention must be positive.");
        SeriesRetention = seriesRetention ?? DefaultSeriesRetention;
        _time = time ?? TimeProvider.System;
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);

        _meter.CreateObservableGauge("fusechat.runs", ObserveRuns, "{run}", "Fusion runs known to this silo, by state.");
        _meter.CreateObservableGauge("fusechat.stage.progress", () => Observe(_progress, "run", "stage"), "1", "Progress of a stage of a run, from 0 to 1.");
        _tokens = _meter.CreateCounter<long>("fusechat.tokens", "{token}", "Tokens processed, by stage.");
        _meter.CreateObservableGauge("fusechat.tokens.rate", () => Observe(_tokensPerSecond, "run", "stage"), "{token}/s", "Recent tokens per second of a stage of a run.");
        _meter.CreateObservableGauge("fusechat.training.loss", () => Observe(_loss, "run", "source"), "{nat}", "Latest training loss of a run (source: the source model, or 'total').");
        _checkpointDuration = _meter.CreateHistogram("fusechat.checkpoint.duration", "s", "Time to write one checkpoint.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = CheckpointBuckets });
        _checkpointBytes = _meter.CreateCounter<long>("fusechat.checkpoint.bytes", "By", "Bytes written by checkpoints.");
        _meter.CreateObservableCounter("fusechat.artifact.bytes", ObserveArtifactBytes, "By", "Bytes moved to or from the artifact store, by direction.");
        _runsEnded = _meter.CreateCounter<long>("fusechat.runs.ended", "{run}", "Fusion runs that ended on this silo, by final state (completed, failed, cancelled).");
        _meter.CreateObservableGauge("fusechat.artifact.cleanup.pending", () => (long)_pendingCleanups.Count, "{run}",
            "Ended runs held by this silo whose work artifacts are still to be deleted from the artifact store (a pass is running, or the last one failed and waits for the next tick).");
        _cleanupPasses = _meter.CreateCounter<long>("fusechat.artifact.cleanup.passes", "{pass}", "Passes that deleted ended runs' work artifacts, by outcome (completed, failed).");
        _deletedBytes = _meter.CreateCounter<long>("fusechat.artifact.deleted", "By", "Bytes of work artifacts deleted from the artifact store after runs ended.");
    }

    /// <summary>How long the series of a run that is not running on this silo stay after their last update.</summary>
    public TimeSpan SeriesRetention { get; }

    /// <summary>Sets the state of <paramref name="runId"/> (for example running, paused, completed, failed).</summary>
    /// <param name="runId">The run.</param>
    /// <param name="state">Its state, a short lowercase word.</param>
    public void SetRunState(string runId, string state)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        ArgumentException.ThrowIfNullOrWhiteSpace(state);
        var before = _runStates.TryGetValue(runId, out var previous) ? previous.Value : null;
        _runStates[runId] = new Stamped<string>(state, _time.GetUtcNow());
        // An event replayed after the end (a retried state write) must not count the run twice.
        if (EndedStates.Contains(state) && before != state) _runsEnded.Add(1, new KeyValuePair<string, object?>("state", state));
    }

    /// <summary>Records the progress of a stage of a run; values are clamped to 0..1.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="stage">The stage, such as represent, align, train, merge.</param>
    /// <param name="fraction">Done over total.</param>
    public void RecordStageProgress(string runId, string stage, double fraction)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        ArgumentException.ThrowIfNullOrWhiteSpace(stage);
        _progress[(runId, stage)] = new(double.IsNaN(fraction) ? 0 : Math.Clamp(fraction, 0, 1), _time.GetUtcNow());
    }

    /// <summary>Adds processed tokens of a stage.</summary>
    /// <param name="stage">The stage.</param>
    /// <param name="tokens">The count to add (not negative).</param>
    public void RecordTokens(string stage, long tokens)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stage);
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        _tokens.Add(tokens, new KeyValuePair<string, object?>("stage", stage));
    }

    /// <summary>Sets the recent throughput of a stage of a run.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="stage">The stage.</param>
    /// <param name="tokensPerSecond">Tokens per second over the last measured interval.</param>
    public void RecordTokensPerSecond(string runId, string stage, double tokensPerSecond)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        ArgumentException.ThrowIfNullOrWhiteSpace(stage);
        _tokensPerSecond[(runId, stage)] = new(tokensPerSecond, _time.GetUtcNow());
    }

    /// <summary>Sets the latest training loss of a run.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="source">The source model the loss term belongs to, or "total".</param>
    /// <param name="loss">The loss in nats per token.</param>
    public void RecordTrainingLoss(string runId, string source, double loss)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        _loss[(runId, source)] = new(loss, _time.GetUtcNow());
    }

    /// <summary>Records one checkpoint: its duration and size.</summary>
    /// <param name="duration">Time spent writing it.</param>
    /// <param name="bytes">Bytes written.</param>
    /// <param name="stage">The stage that checkpointed.</param>
    public void RecordCheckpoint(TimeSpan duration, long bytes, string stage)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stage);
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        var tag = new KeyValuePair<string, object?>("stage", stage);
        _checkpointDuration.Record(duration.TotalSeconds, tag);
        _checkpointBytes.Add(bytes, tag);
    }

    /// <summary>Adds artifact bytes moved outside an observed store (see <see cref="ObserveArtifactTransfers"/>).</summary>
    /// <param name="direction"><see cref="Upload"/> or <see cref="Download"/>.</param>
    /// <param name="bytes">The count to add (not negative).</param>
    public void RecordArtifactBytes(string direction, long bytes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(direction);
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        _artifactBytes.AddOrUpdate(direction, bytes, (_, total) => total + bytes);
    }

    /// <summary>Includes the running totals of an artifact store in fusechat.artifact.bytes.</summary>
    /// <param name="counters">The store's counters (<see cref="IArtifactStore.Counters"/>).</param>
    public void ObserveArtifactTransfers(ArtifactTransferCounters counters)
    {
        ArgumentNullException.ThrowIfNull(counters);
        _artifactCounters.Add(counters);
    }

    /// <summary>Counts <paramref name="runId"/> among the ended runs whose work artifacts are still to be deleted, or takes it out.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="pending">True while a pass is running or the last one failed; false once the work is gone, or the grain leaves this silo.</param>
    public void SetArtifactCleanupPending(string runId, bool pending)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        if (pending) _pendingCleanups[runId] = 0;
        else _pendingCleanups.TryRemove(runId, out _);
    }

    /// <summary>Records one pass over an ended run's work artifacts.</summary>
    /// <param name="completed">Whether the pass left no work artifact behind.</param>
    /// <param name="deletedBytes">Bytes the pass deleted.</param>
    public void RecordArtifactCleanupPass(bool completed, long deletedBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(deletedBytes);
        _cleanupPasses.Add(1, new KeyValuePair<string, object?>("outcome", completed ? CleanupCompleted : CleanupFailed));
        _deletedBytes.Add(deletedBytes);
    }

    /// <summary>Removes every per-run series of <paramref name="runId"/> at once (they also expire, see <see cref="SeriesRetention"/>).</summary>
    /// <param name="runId">The run.</param>
    public void ForgetRun(string runId)
    {
        _runStates.TryRemove(runId, out _);
        RemoveRun(_progress, runId);
        RemoveRun(_tokensPerSecond, runId);
        RemoveRun(_loss, runId);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // A factory-created meter belongs to the factory, which disposes it with the host.
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    private List<Measurement<long>> ObserveRuns()
    {
        Expire();
        return _runStates.GroupBy(p => p.Value.Value, StringComparer.Ordinal)
            .Select(g => new Measurement<long>(g.LongCount(), new KeyValuePair<string, object?>("state", g.Key)))
            .ToList();
    }

    private List<Measurement<double>> Observe(ConcurrentDictionary<(string, string), Stamped<double>> values, string first, string second)
    {
        Expire();
        return values.Select(p => new Measurement<double>(p.Value.Value,
            new KeyValuePair<string, object?>(first, p.Key.Item1), new KeyValuePair<string, object?>(second, p.Key.Item2))).ToList();
    }

    /// <summary>
    /// Drops the series of runs that are not running on this silo and were not updated for <see cref="SeriesRetention"/>.
    /// Runs at each collection: a scrape every few seconds makes the cost a few dictionary walks, and no timer is needed.
    /// </summary>
    private void Expire()
    {
        var cutoff = _time.GetUtcNow() - SeriesRetention;
        foreach (var (run, state) in _runStates)
        {
            if (EndedStates.Contains(state.Value) && state.At < cutoff) _runStates.TryRemove(new KeyValuePair<string, Stamped<string>>(run, state));
        }

        ExpireIdle(_progress, cutoff);
        ExpireIdle(_tokensPerSecond, cutoff);
        ExpireIdle(_loss, cutoff);
    }

    private void ExpireIdle(ConcurrentDictionary<(string, string), Stamped<double>> values, DateTimeOffset cutoff)
    {
        foreach (var (key, value) in values)
        {
            // A run this silo knows as running keeps its series however long a stage stays quiet.
            if (value.At < cutoff && !(_runStates.TryGetValue(key.Item1, out var state) && !EndedStates.Contains(state.Value)))
                values.TryRemove(new KeyValuePair<(string, string), Stamped<double>>(key, value));
        }
    }

    private List<Measurement<long>> ObserveArtifactBytes()
    {
        var totals = new Dictionary<string, long>(_artifactBytes, StringComparer.Ordinal);
        foreach (var counters in _artifactCounters)
        {
            totals[Upload] = totals.GetValueOrDefault(Upload) + counters.BytesWritten;
            totals[Download] = totals.GetValueOrDefault(Download) + counters.BytesRead;
        }

        return totals.Select(p => new Measurement<long>(p.Value, new KeyValuePair<string, object?>("direction", p.Key))).ToList();
    }

    private static void RemoveRun(ConcurrentDictionary<(string, string), Stamped<double>> values, string runId)
    {
        foreach (var key in values.Keys.Where(k => k.Item1 == runId))
        {
            values.TryRemove(key, out _);
        }
    }

    /// <summary>A value and when it was last set.</summary>
    private readonly record struct Stamped<T>(T Value, DateTimeOffset At);
}
