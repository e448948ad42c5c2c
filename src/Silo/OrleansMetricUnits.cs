using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace FuseChat.Silo;

/// <summary>
/// Re-publishes the Orleans instruments measured in milliseconds or megabytes in Prometheus' base units (seconds,
/// bytes) on the meter <see cref="MeterName"/>, under the same names; <see cref="SiloHost"/> drops the originals
/// from the export. Why: promtool flags every non-base unit, and the OpenTelemetry views cannot change a unit.
/// </summary>
public sealed class OrleansMetricUnits : IDisposable
{
    /// <summary>The meter the converted instruments live on.</summary>
    public const string MeterName = "FuseChat.OrleansUnits";

    private readonly Meter _meter = new(MeterName);
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, Histogram<double>> _histograms = new();
    private readonly ConcurrentDictionary<Instrument, ConcurrentDictionary<string, Measurement<double>>> _observed = new();
    private readonly Lock _observing = new();

    /// <summary>Starts listening to the meter named <paramref name="sourceMeter"/>.</summary>
    /// <param name="sourceMeter">Normally "Microsoft.Orleans".</param>
    public OrleansMetricUnits(string sourceMeter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name != sourceMeter || Factor(instrument.Unit) is not { } factor) return;
            var name = instrument.Name;
            var unit = BaseUnit(instrument.Unit!);
            var description = string.IsNullOrEmpty(instrument.Description) ? OrleansMetricDescriptions.For(instrument) : instrument.Description;
            if (instrument.IsObservable)
            {
                var values = _observed.GetOrAdd(instrument, _ => new ConcurrentDictionary<string, Measurement<double>>(StringComparer.Ordinal));
                _meter.CreateObservableGauge(name, () => Observe(values), unit, description);
            }
            else
            {
                _histograms.GetOrAdd(instrument, _ => _meter.CreateHistogram<double>(name, unit, description));
            }

            listener.EnableMeasurementEvents(instrument, factor);
        };
        _listener.SetMeasurementEventCallback<double>((i, v, tags, state) => Record(i, v, tags, state));
        _listener.SetMeasurementEventCallback<float>((i, v, tags, state) => Record(i, v, tags, state));
        _listener.SetMeasurementEventCallback<long>((i, v, tags, state) => Record(i, v, tags, state));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, state) => Record(i, v, tags, state));
        _listener.Start();
    }

    /// <summary>True for an instrument this bridge converts (the export drops the original).</summary>
    /// <param name="unit">The instrument's unit.</param>
    public static bool Converts(string? unit) => Factor(unit) is not null;

    /// <inheritdoc />
    public void Dispose()
    {
        _listener.Dispose();
        _meter.Dispose();
    }

    private static object? Factor(string? unit) => unit switch
    {
        "ms" => 1e-3,
        "MB" => 1024.0 * 1024.0,
        _ => null,
    };

    private static string BaseUnit(string unit) => unit == "ms" ? "s" : "By";

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        var converted = value * (double)state!;
        if (_histograms.TryGetValue(instrument, out var histogram))
        {
            histogram.Record(converted, tags);
        }
        else if (_observed.TryGetValue(instrument, out var values))
        {
            var copy = tags.ToArray();
            values[string.Join(',', copy.Select(t => $"{t.Key}={t.Value}"))] = new Measurement<double>(converted, copy);
        }
    }

    private IEnumerable<Measurement<double>> Observe(ConcurrentDictionary<string, Measurement<double>> values)
    {
        // One collection asks every converted gauge in turn; reading the Orleans gauges once per call is cheap.
        lock (_observing) _listener.RecordObservableInstruments();
        return [.. values.Values];
    }
}
