using System.Diagnostics.Metrics;
using FuseChat.Grains.Telemetry;

namespace FuseChat.Grains.Tests.Telemetry;

/// <summary>How long per-run series live, and the artifact cleanup series.</summary>
public class FuseChatMetricsTests
{
    private static readonly TimeSpan Retention = TimeSpan.FromMinutes(30);

    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>Every measurement of the given metrics' meter (by scope: other tests' meters share the name).</summary>
    private sealed class Reader : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<(string Instrument, double Value, Dictionary<string, string> Tags)> _seen = [];

        public Reader(IMeterFactory factory)
        {
            _listener.InstrumentPublished = (i, l) =>
            {
                if (i.Meter.Name == FuseChatMetrics.MeterName && ReferenceEquals(i.Meter.Scope, factory)) l.EnableMeasurementEvents(i);
            };
            _listener.SetMeasurementEventCallback<double>((i, v, t, _) => Add(i, v, t));
            _listener.SetMeasurementEventCallback<long>((i, v, t, _) => Add(i, v, t));
            _listener.Start();
        }

        /// <summary>Reads the observable instruments and returns what they and the counters reported since the last call.</summary>
        public List<(string Instrument, double Value, Dictionary<string, string> Tags)> Collect()
        {
            _listener.RecordObservableInstruments();
            var seen = _seen.ToList();
            _seen.Clear();
            return seen;
        }

        public void Dispose() => _listener.Dispose();

        private void Add(Instrument i, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var d = new Dictionary<string, string>();
            foreach (var t in tags) d[t.Key] = t.Value?.ToString() ?? "";
            _seen.Add((i.Name, value, d));
        }
    }

    private sealed class Factory : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose() => _meters.ForEach(m => m.Dispose());
    }

    private static IEnumerable<string> Runs(IEnumerable<(string Instrument, double Value, Dictionary<string, string> Tags)> seen, string instrument) =>
        seen.Where(m => m.Instrument == instrument).Select(m => m.Tags["run"]).Distinct().Order();

    [Fact]
    public void AnEndedRunsSeriesGoAfterTheRetentionWhileARunningRunsStay()
    {
        using var factory = new Factory();
        var clock = new ManualClock();
        using var metrics = new FuseChatMetrics(factory, Retention, clock);
        using var reader = new Reader(factory);
        foreach (var run in new[] { "done", "busy" })
        {
            metrics.SetRunState(run, "running");
            metrics.RecordStageProgress(run, "fusion", 0);
            metrics.RecordTrainingLoss(run, "total", 2.5);
        }

        metrics.SetRunState("done", "completed");
        clock.Now += Retention - TimeSpan.FromSeconds(1);
        var before = reader.Collect();
        Assert.Equal(["busy", "done"], Runs(before, "fusechat.stage.progress"));
        Assert.Contains(before, m => m.Instrument == "fusechat.runs" && m.Tags["state"] == "completed" && m.Value == 1);

        // A stage can stay quiet for hours: a run this silo knows as running keeps its series.
        clock.Now += TimeSpan.FromSeconds(2);
        var after = reader.Collect();
        Assert.Equal(["busy"], Runs(after, "fusechat.stage.progress"));
        Assert.Equal(["busy"], Runs(after, "fusechat.training.loss"));
        Assert.DoesNotContain(after, m => m.Instrument == "fusechat.runs" && m.Tags["state"] == "completed");
        Assert.Contains(after, m => m.Instrument == "fusechat.runs" && m.Tags["state"] == "running" && m.Value == 1);
    }

    [Fact]
    public void SeriesOfARunThisSiloOnlyWorksForExpireWhenIdle()
    {
        // A worker's silo never hears that the run ended: its series go once nothing updated them for the retention.
        using var factory = new Factory();
        var clock = new ManualClock();
        using var metrics = new FuseChatMetrics(factory, Retention, clock);
        using var reader = new Reader(factory);
        metrics.RecordTokensPerSecond("elsewhere", "fusion", 1000);
        metrics.RecordTrainingLoss("elsewhere", "llama3", 3.0);
        clock.Now += TimeSpan.FromMinutes(20);
        metrics.RecordTrainingLoss("elsewhere", "llama3", 2.0);
        clock.Now += TimeSpan.FromMinutes(20);

        var seen = reader.Collect();
        Assert.Empty(Runs(seen, "fusechat.tokens.rate"));
        Assert.Contains(seen, m => m.Instrument == "fusechat.training.loss" && m.Tags["run"] == "elsewhere" && m.Value == 2.0);

        clock.Now += TimeSpan.FromMinutes(11);
        Assert.Empty(Runs(reader.Collect(), "fusechat.training.loss"));
    }

    [Fact]
    public void EndedRunsAreCountedOnceByFinalState()
    {
        using var factory = new Factory();
        using var metrics = new FuseChatMetrics(factory);
        using var reader = new Reader(factory);
        metrics.SetRunState("a", "running");
        metrics.SetRunState("a", "completed");
        metrics.SetRunState("a", "completed");
        metrics.SetRunState("b", "running");
        metrics.SetRunState("b", "failed");
        metrics.SetRunState("c", "cancelled");

        var ended = reader.Collect().Where(m => m.Instrument == "fusechat.runs.ended").ToList();
        Assert.Equal(1, ended.Where(m => m.Tags["state"] == "completed").Sum(m => m.Value));
        Assert.Equal(1, ended.Where(m => m.Tags["state"] == "failed").Sum(m => m.Value));
        Assert.Equal(1, ended.Where(m => m.Tags["state"] == "cancelled").Sum(m => m.Value));
        Assert.DoesNotContain(ended, m => m.Tags["state"] == "running");
    }

    [Fact]
    public void CleanupPassesAndPendingRunsAreExported()
    {
        using var factory = new Factory();
        using var metrics = new FuseChatMetrics(factory);
        using var reader = new Reader(factory);
        double Pending(List<(string Instrument, double Value, Dictionary<string, string> Tags)> seen) =>
            Assert.Single(seen, m => m.Instrument == "fusechat.artifact.cleanup.pending").Value;

        Assert.Equal(0, Pending(reader.Collect()));
        metrics.SetArtifactCleanupPending("r1", true);
        metrics.SetArtifactCleanupPending("r2", true);
        metrics.RecordArtifactCleanupPass(completed: false, deletedBytes: 100);
        var seen = reader.Collect();
        Assert.Equal(2, Pending(seen));
        Assert.Contains(seen, m => m.Instrument == "fusechat.artifact.cleanup.passes" && m.Tags["outcome"] == "failed" && m.Value == 1);

        metrics.RecordArtifactCleanupPass(completed: true, deletedBytes: 400);
        metrics.SetArtifactCleanupPending("r1", false);
        seen = reader.Collect();
        Assert.Equal(1, Pending(seen));
        Assert.Contains(seen, m => m.Instrument == "fusechat.artifact.cleanup.passes" && m.Tags["outcome"] == "completed" && m.Value == 1);
        Assert.Equal(400, seen.Where(m => m.Instrument == "fusechat.artifact.deleted").Sum(m => m.Value));
    }

    [Fact]
    public void ANonPositiveRetentionIsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new FuseChatMetrics(null, TimeSpan.Zero));
}
