using System.Diagnostics.Metrics;
using FuseChat.Grains.Interfaces.Runs;
using FuseChat.Grains.Telemetry;

namespace FuseChat.Grains.Tests.Telemetry;

public class MetricsRunObserverTests
{
    private static List<(string Instrument, double Value, Dictionary<string, string> Tags)> Collect(FuseChatMetrics metrics, string instrument)
    {
        var seen = new List<(string, double, Dictionary<string, string>)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Name == FuseChatMetrics.MeterName && i.Name == instrument) l.EnableMeasurementEvents(i);
        };
        void Record(Instrument i, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var d = new Dictionary<string, string>();
            foreach (var t in tags) d[t.Key] = t.Value?.ToString() ?? "";
            seen.Add((i.Name, value, d));
        }
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
        listener.Start();
        listener.RecordObservableInstruments();
        return seen;
    }

    private static RunEvent Event(RunEventKind kind, RunStage? stage = null) => new(1, DateTimeOffset.UtcNow, kind, stage, "");

    [Fact]
    public void RunEventsBecomeRunStatesAndStageProgress()
    {
        using var metrics = new FuseChatMetrics();
        var observer = new MetricsRunObserver(metrics);
        observer.OnRunEvent("r1", Event(RunEventKind.RunStarted));
        observer.OnRunEvent("r1", Event(RunEventKind.StageStarted, RunStage.Alignment));
        observer.OnRunEvent("r1", Event(RunEventKind.StageCompleted, RunStage.Representations));
        observer.OnRunEvent("r2", Event(RunEventKind.RunStarted));
        observer.OnRunEvent("r2", Event(RunEventKind.RunFailed));

        var progress = Collect(metrics, "fusechat.stage.progress");
        Assert.Contains(progress, m => m.Tags["run"] == "r1" && m.Tags["stage"] == "alignment" && m.Value == 0);
        Assert.Contains(progress, m => m.Tags["run"] == "r1" && m.Tags["stage"] == "representations" && m.Value == 1);
        var runs = Collect(metrics, "fusechat.runs");
        Assert.Contains(runs, m => m.Tags["state"] == "running" && m.Value == 1);
        Assert.Contains(runs, m => m.Tags["state"] == "failed" && m.Value == 1);
    }
}
