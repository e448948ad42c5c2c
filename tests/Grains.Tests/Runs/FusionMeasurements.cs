using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using FuseChat.Grains.Telemetry;

namespace FuseChat.Grains.Tests.Runs;

/// <summary>Listens to the FuseChat meter while a test runs and keeps every measurement with its tags.</summary>
public sealed class FusionMeasurements : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, double Value, KeyValuePair<string, object?>[] Tags)> _seen = new();

    /// <param name="scope">Only the meter of this scope (a silo's IMeterFactory): other test classes' silos run beside this one.</param>
    public FusionMeasurements(object? scope = null)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == FuseChatMetrics.MeterName && (scope is null || ReferenceEquals(instrument.Meter.Scope, scope)))
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => _seen.Enqueue((i.Name, v, tags.ToArray())));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => _seen.Enqueue((i.Name, v, tags.ToArray())));
        _listener.Start();
    }

    /// <summary>Reads the observable gauges now.</summary>
    public void Collect() => _listener.RecordObservableInstruments();

    public double Sum(string instrument, params (string Key, string Value)[] tags) => Matching(instrument, tags).Sum();

    public double? Last(string instrument, params (string Key, string Value)[] tags) => Matching(instrument, tags).Select(v => (double?)v).LastOrDefault();

    public void Dispose() => _listener.Dispose();

    private IEnumerable<double> Matching(string instrument, (string Key, string Value)[] tags) =>
        _seen.Where(m => m.Instrument == instrument && tags.All(t => m.Tags.Any(k => k.Key == t.Key && Equals(k.Value, t.Value)))).Select(m => m.Value);
}
