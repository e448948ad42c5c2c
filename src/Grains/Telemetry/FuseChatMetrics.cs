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
/// than recorded on synchronous gauges, so that <see cref="ForgetRun"/> removes a finished run's series instead of
/// exporting its last value forever. docs/metrics.md lists the names Prometheus sees.
/// </remarks>
public sealed class FuseChatMetrics : IDisposable
{
    /// <summary>The meter name, to be enabled in OpenTelemetry (AddMeter).</summary>
    public const string MeterName = "FuseChat";

    /// <summary>Direction tag value of <see cref="RecordArtifactBytes"/> for uploads.</summary>
    public const string Upload = "upload";

    /// <summary>Direction tag value of <see cref="RecordArtifactBytes"/> for downloads.</summary>
    public const string Download = "download";

    // Seconds: checkpoints of small models take well under a second, large ones minutes.
    private static readonly double[] CheckpointBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _tokens;
    private readonly Counter<long> _checkpointBytes;
    private readonly Histogram<double> _checkpointDuration;
    private readonly ConcurrentDictionary<string, string> _runStates = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Run, string Stage), double> _progress = new();
    private readonly ConcurrentDictionary<(string Run, string Stage), double> _tokensPerSecond = new();
    private readonly ConcurrentDictionary<(string Run, string Source), double> _loss = new();
    private readonly ConcurrentDictionary<string, long> _artifactBytes = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<ArtifactTransferCounters> _artifactCounters = [];

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>, or on a meter of its own when null.</summary>
    /// <param name="meterFactory">The host's meter factory (the meter then lives as long as the host's services).</param>
    public FuseChatMetrics(IMeterFactory? meterFactory = null)
    {
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
    }

    /// <summary>Sets the state of <paramref name="runId"/> (for example running, paused, completed, failed).</summary>
    /// <param name="runId">The run.</param>
    /// <param name="state">Its state, a short lowercase word.</param>
    public void SetRunState(string runId, string state)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        ArgumentException.ThrowIfNullOrWhiteSpace(state);
        _runStates[runId] = state;
    }

    /// <summary>Records the progress of a stage of a run; values are clamped to 0..1.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="stage">The stage, such as represent, align, train, merge.</param>
    /// <param name="fraction">Done over total.</param>
    public void RecordStageProgress(string runId, string stage, double fraction)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        ArgumentException.ThrowIfNullOrWhiteSpace(stage);
        _progress[(runId, stage)] = double.IsNaN(fraction) ? 0 : Math.Clamp(fraction, 0, 1);
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
        _tokensPerSecond[(runId, stage)] = tokensPerSecond;
    }

    /// <summary>Sets the latest training loss of a run.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="source">The source model the loss term belongs to, or "total".</param>
    /// <param name="loss">The loss in nats per token.</param>
    public void RecordTrainingLoss(string runId, string source, double loss)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        _loss[(runId, source)] = loss;
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

    /// <summary>Removes every per-run series of <paramref name="runId"/>; call when a run is finished and reported.</summary>
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

    private IEnumerable<Measurement<long>> ObserveRuns() =>
        _runStates.GroupBy(p => p.Value, StringComparer.Ordinal)
            .Select(g => new Measurement<long>(g.LongCount(), new KeyValuePair<string, object?>("state", g.Key)))
            .ToList();

    private static List<Measurement<double>> Observe(ConcurrentDictionary<(string, string), double> values, string first, string second) =>
        values.Select(p => new Measurement<double>(p.Value,
            new KeyValuePair<string, object?>(first, p.Key.Item1), new KeyValuePair<string, object?>(second, p.Key.Item2))).ToList();

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

    private static void RemoveRun(ConcurrentDictionary<(string, string), double> values, string runId)
    {
        foreach (var key in values.Keys.Where(k => k.Item1 == runId))
        {
            values.TryRemove(key, out _);
        }
    }
}
